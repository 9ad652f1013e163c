import Foundation

/// One concept of the demo world: an object, attribute, scene or action, with the caption words
/// that name it (the concept's name first, then synonyms).
public struct DemoWorldConcept: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case object, attribute, scene, action
    }

    public let kind: Kind
    public let name: String
    /// Caption words naming the concept; `words[0] == name`.
    public let words: [String]
    /// Objects: person, animal, vehicle or thing; attributes: color, age, size or pattern.
    public let category: String?

    public init(kind: Kind, name: String, words: [String], category: String? = nil) {
        self.kind = kind
        self.name = name
        self.words = words.isEmpty ? [name] : words
        self.category = category
    }
}

/// The concepts of the synthetic world and the rules that keep images and captions plausible:
/// which attributes and actions an object takes, where it can be, and which actions take an object
/// ("riding a horse").
///
/// 40 objects, 15 attributes, 20 scenes, 15 actions.
public struct DemoWorldCatalog: Sendable {
    public let objects: [DemoWorldConcept]
    public let attributes: [DemoWorldConcept]
    public let scenes: [DemoWorldConcept]
    public let actions: [DemoWorldConcept]

    /// Rules per object (same order as `objects`).
    struct ObjectRule: Sendable {
        var attributes: [Int]
        var actions: [Int]
        var scenes: Set<Int>
        /// Garment words for color and pattern attributes of people ("a man in a red shirt").
        var garments: [String]
    }

    /// A transitive use of an action: `subject category` + action + one of `targets`.
    struct TransitiveRule: Sendable {
        var action: Int
        var targets: [Int]
        /// The action needs its target (riding, throwing); otherwise the target is optional (playing).
        var required: Bool
    }

    let objectRules: [ObjectRule]
    let sceneKinds: [SceneKind]
    /// Phrases placing something in a scene ("on the beach"), per scene.
    let scenePhrases: [[String]]
    /// Present participle variants per action ("running", "running around").
    let actionParticiples: [[String]]
    /// Third person present per action ("runs").
    let actionPresent: [String]
    let transitive: [TransitiveRule]

    enum SceneKind: Sendable { case land, water, pool, indoor }

    public static let standard = DemoWorldCatalog()

    /// All concepts in a fixed order: objects, attributes, scenes, actions.
    public var allConcepts: [DemoWorldConcept] { objects + attributes + scenes + actions }

    public func concepts(_ kind: DemoWorldConcept.Kind) -> [DemoWorldConcept] {
        switch kind {
        case .object: return objects
        case .attribute: return attributes
        case .scene: return scenes
        case .action: return actions
        }
    }

    /// The index of the concept `name` of `kind`, nil if there is none.
    public func index(of name: String, kind: DemoWorldConcept.Kind) -> Int? {
        concepts(kind).firstIndex { $0.name == name }
    }

    // MARK: - The standard world

    private init() {
        let colorNames = ["red", "blue", "green", "yellow", "white", "black", "brown", "pink", "orange", "purple"]
        var attributes = colorNames.map { DemoWorldConcept(kind: .attribute, name: $0, words: [$0], category: "color") }
        attributes += [
            DemoWorldConcept(kind: .attribute, name: "young", words: ["young"], category: "age"),
            DemoWorldConcept(kind: .attribute, name: "old", words: ["old", "elderly"], category: "age"),
            DemoWorldConcept(kind: .attribute, name: "small", words: ["small", "little"], category: "size"),
            DemoWorldConcept(kind: .attribute, name: "large", words: ["large", "big"], category: "size"),
            DemoWorldConcept(kind: .attribute, name: "striped", words: ["striped"], category: "pattern"),
        ]
        func attr(_ names: [String]) -> [Int] {
            names.map { n in attributes.firstIndex { $0.name == n }! }
        }
        let colors = attr(colorNames)

        // Scenes: name, synonyms, kind, phrases.
        let sceneTable: [(String, [String], SceneKind, [String])] = [
            ("beach", ["shore"], .water, ["on the beach", "at the beach", "on a sandy beach", "along the shore", "on the shore"]),
            ("park", [], .land, ["in the park", "at a park", "in a public park", "at the park"]),
            ("street", [], .land, ["on the street", "on a busy street", "along the street", "in the street"]),
            ("snow", [], .land, ["in the snow", "through the snow", "in the deep snow", "on the snow"]),
            ("grass", [], .land, ["on the grass", "in the grass", "in the tall grass", "on some grass"]),
            ("water", [], .water, ["in the water", "through the water", "near the water", "by the water"]),
            ("kitchen", [], .indoor, ["in a kitchen", "in the kitchen", "inside a kitchen"]),
            ("field", ["meadow"], .land, ["in a field", "in an open field", "across a field", "in a meadow"]),
            ("forest", ["woods"], .land, ["in the forest", "in the woods", "through the forest", "in a dense forest"]),
            ("city", [], .land, ["in the city", "in a busy city", "in a big city"]),
            ("mountain", ["mountains"], .land, ["on a mountain", "on the mountain", "in the mountains", "up a mountain"]),
            ("river", [], .water, ["in a river", "by the river", "near a river", "in the river"]),
            ("desert", [], .land, ["in the desert", "across the desert", "in a sandy desert"]),
            ("stage", [], .indoor, ["on stage", "on a stage", "on the stage"]),
            ("road", [], .land, ["on the road", "along a road", "on a dirt road", "on a country road"]),
            ("lake", [], .water, ["by the lake", "in a lake", "near a lake", "on the lake"]),
            ("pool", [], .pool, ["in the pool", "in a swimming pool", "by the pool"]),
            ("market", [], .land, ["at a market", "in a busy market", "at the market"]),
            ("garden", [], .land, ["in a garden", "in the garden"]),
            ("playground", [], .land, ["at a playground", "on the playground", "at the playground"]),
        ]
        scenes = sceneTable.map { DemoWorldConcept(kind: .scene, name: $0.0, words: [$0.0] + $0.1) }
        sceneKinds = sceneTable.map(\.2)
        scenePhrases = sceneTable.map(\.3)
        func sc(_ names: [String]) -> Set<Int> { Set(names.map { n in sceneTable.firstIndex { $0.0 == n }! }) }
        let allScenes = Set(0..<sceneTable.count)
        let land = Set(sceneTable.indices.filter { sceneTable[$0].2 == .land })
        let nature = land.union(sc(["beach", "water", "river", "lake"])).subtracting(sc(["market", "playground", "city", "street"]))
        let outdoor = allScenes.subtracting(sc(["kitchen", "stage"]))
        let waterScenes = sc(["beach", "water", "river", "lake", "pool"])

        // Actions: name, synonyms, participle variants, third person.
        let actionTable: [(String, [String], [String], String)] = [
            ("running", ["racing"], ["running", "running around", "running fast", "racing"], "runs"),
            ("jumping", ["leaping"], ["jumping", "jumping up", "leaping"], "jumps"),
            ("sitting", [], ["sitting", "sitting down"], "sits"),
            ("riding", [], ["riding"], "rides"),
            ("standing", [], ["standing", "standing still", "standing around"], "stands"),
            ("walking", ["strolling"], ["walking", "walking around", "strolling"], "walks"),
            ("swimming", [], ["swimming"], "swims"),
            ("playing", [], ["playing", "playing around"], "plays"),
            ("eating", [], ["eating", "eating something"], "eats"),
            ("sleeping", [], ["sleeping", "sleeping peacefully"], "sleeps"),
            ("climbing", [], ["climbing", "climbing up"], "climbs"),
            ("throwing", [], ["throwing"], "throws"),
            ("catching", [], ["catching"], "catches"),
            ("lying", ["laying"], ["lying", "lying down", "laying down"], "lies"),
            ("flying", [], ["flying", "flying high"], "flies"),
        ]
        actions = actionTable.map { DemoWorldConcept(kind: .action, name: $0.0, words: [$0.0] + $0.1) }
        actionParticiples = actionTable.map(\.2)
        actionPresent = actionTable.map(\.3)
        func act(_ names: [String]) -> [Int] { names.map { n in actionTable.firstIndex { $0.0 == n }! } }

        // Objects: name, synonyms, category, attributes, actions, scenes, garments.
        let menGarments = ["shirt", "jacket", "hat", "coat", "sweater", "t-shirt"]
        let womenGarments = ["shirt", "jacket", "dress", "hat", "coat", "skirt"]
        let kidGarments = ["shirt", "jacket", "hat", "coat"]
        let personActions = act(["running", "jumping", "sitting", "riding", "standing", "walking", "swimming", "playing",
                                 "eating", "sleeping", "climbing", "throwing", "catching", "lying", "flying"])
        let vehicleAttributes = colors + attr(["small", "large", "old"])
        let thingAttributes = colors + attr(["small", "large"])
        typealias Row = (String, [String], String, [Int], [Int], Set<Int>, [String])
        let table: [Row] = [
            ("man", ["guy"], "person", colors + attr(["striped", "young", "old"]), personActions, allScenes, menGarments),
            ("woman", ["lady"], "person", colors + attr(["striped", "young", "old"]), personActions, allScenes, womenGarments),
            ("child", ["kid"], "person", colors + attr(["striped", "young", "small"]), personActions, allScenes, kidGarments),
            ("boy", [], "person", colors + attr(["striped", "young", "small"]), personActions, allScenes, kidGarments),
            ("girl", [], "person", colors + attr(["striped", "young", "small"]), personActions, allScenes, kidGarments + ["dress"]),
            ("dog", ["puppy"], "animal", attr(["white", "black", "brown", "small", "large", "young", "old"]),
             act(["running", "jumping", "sitting", "standing", "walking", "swimming", "playing", "eating", "sleeping", "catching", "lying"]),
             allScenes.subtracting(sc(["stage"])), []),
            ("cat", ["kitten"], "animal", attr(["white", "black", "brown", "orange", "small", "large", "young", "striped"]),
             act(["jumping", "sitting", "standing", "walking", "playing", "eating", "sleeping", "climbing", "lying"]),
             land.union(sc(["kitchen"])), []),
            ("horse", ["pony"], "animal", attr(["white", "black", "brown", "small", "large", "young"]),
             act(["running", "jumping", "standing", "walking", "eating", "lying"]), nature.union(sc(["street", "road"])), []),
            ("bird", [], "animal", colors + attr(["small", "large"]), act(["flying", "sitting", "standing", "eating", "walking"]), outdoor, []),
            ("cow", [], "animal", attr(["white", "black", "brown", "small", "large", "young"]),
             act(["standing", "walking", "eating", "lying"]), nature.union(sc(["road"])), []),
            ("sheep", [], "animal", attr(["white", "black", "small", "large", "young"]),
             act(["standing", "walking", "eating", "lying", "running"]), nature, []),
            ("elephant", [], "animal", attr(["small", "large", "young", "old"]),
             act(["standing", "walking", "eating", "swimming"]), nature, []),
            ("giraffe", [], "animal", attr(["small", "large", "young"]), act(["standing", "walking", "eating", "running"]), nature, []),
            ("bear", [], "animal", attr(["white", "black", "brown", "small", "large", "young"]),
             act(["walking", "standing", "sitting", "eating", "climbing", "sleeping", "swimming"]), nature, []),
            ("zebra", [], "animal", attr(["small", "large", "young"]), act(["standing", "walking", "eating", "running"]), nature, []),
            ("duck", [], "animal", attr(["white", "brown", "black", "small", "large", "young"]),
             act(["swimming", "flying", "standing", "walking", "eating"]), waterScenes.union(sc(["park", "grass", "garden", "field"])), []),
            ("goat", [], "animal", attr(["white", "black", "brown", "small", "young"]),
             act(["standing", "walking", "eating", "climbing", "jumping"]), nature, []),
            ("bicycle", ["bike"], "vehicle", vehicleAttributes, [], land, []),
            ("car", [], "vehicle", vehicleAttributes, [], sc(["street", "city", "road", "park", "market", "field", "mountain", "desert", "snow", "forest"]), []),
            ("boat", [], "vehicle", vehicleAttributes, [], sc(["water", "river", "lake", "beach"]), []),
            ("truck", [], "vehicle", vehicleAttributes, [], sc(["street", "city", "road", "market", "field", "mountain", "desert", "snow", "forest"]), []),
            ("bus", [], "vehicle", vehicleAttributes, [], sc(["street", "city", "road", "market", "mountain", "snow"]), []),
            ("train", [], "vehicle", vehicleAttributes, [], sc(["city", "field", "mountain", "desert", "snow", "forest", "river"]), []),
            ("motorcycle", ["motorbike"], "vehicle", vehicleAttributes, [], sc(["street", "city", "road", "market", "field", "mountain", "desert", "forest"]), []),
            ("airplane", ["plane"], "vehicle", vehicleAttributes, act(["flying"]), sc(["field", "city", "desert", "mountain", "beach", "snow"]), []),
            ("ball", [], "thing", thingAttributes + attr(["striped"]), [], sc(["park", "beach", "grass", "field", "playground", "street", "pool", "water", "snow"]), []),
            ("skateboard", [], "thing", thingAttributes, [], sc(["street", "park", "city", "road", "playground"]), []),
            ("surfboard", [], "thing", thingAttributes + attr(["striped"]), [], sc(["beach", "water", "lake"]), []),
            ("kite", [], "thing", thingAttributes + attr(["striped"]), act(["flying"]), sc(["beach", "park", "field", "grass", "mountain", "snow"]), []),
            ("umbrella", [], "thing", thingAttributes + attr(["striped"]), [], sc(["beach", "street", "city", "market", "park", "pool", "garden"]), []),
            ("bench", [], "thing", thingAttributes + attr(["old"]), [], sc(["park", "street", "city", "garden", "playground", "beach", "lake", "market"]), []),
            ("table", [], "thing", thingAttributes + attr(["old"]), [], sc(["kitchen", "garden", "market", "park", "beach", "stage"]), []),
            ("chair", [], "thing", thingAttributes + attr(["old"]), [], sc(["kitchen", "garden", "market", "park", "beach", "stage", "pool"]), []),
            ("guitar", [], "thing", thingAttributes + attr(["old"]), [], sc(["stage", "street", "park", "beach", "city", "market", "garden"]), []),
            ("frisbee", [], "thing", thingAttributes, act(["flying"]), sc(["park", "beach", "grass", "field"]), []),
            ("tent", [], "thing", thingAttributes + attr(["striped"]), [], sc(["field", "forest", "mountain", "desert", "snow", "beach", "grass", "park", "market"]), []),
            ("backpack", ["bag"], "thing", thingAttributes + attr(["striped"]), [], sc(["mountain", "forest", "street", "city", "desert", "snow", "road", "field"]), []),
            ("balloon", [], "thing", thingAttributes + attr(["striped"]), act(["flying"]), sc(["park", "playground", "city", "street", "field", "garden", "market", "stage"]), []),
            ("drum", [], "thing", thingAttributes + attr(["old"]), [], sc(["stage", "street", "park", "beach", "city", "market"]), []),
            ("flag", [], "thing", thingAttributes + attr(["striped"]), [], sc(["stage", "city", "street", "field", "mountain", "beach", "market"]), []),
        ]
        objects = table.map { DemoWorldConcept(kind: .object, name: $0.0, words: [$0.0] + $0.1, category: $0.2) }
        objectRules = table.map { ObjectRule(attributes: $0.3, actions: $0.4, scenes: $0.5, garments: $0.6) }
        self.attributes = attributes
        func obj(_ names: [String]) -> [Int] { names.map { n in table.firstIndex { $0.0 == n }! } }
        transitive = [
            TransitiveRule(action: act(["riding"])[0], targets: obj(["horse", "bicycle", "motorcycle", "skateboard", "surfboard", "elephant"]), required: true),
            TransitiveRule(action: act(["throwing"])[0], targets: obj(["ball", "frisbee"]), required: true),
            TransitiveRule(action: act(["catching"])[0], targets: obj(["ball", "frisbee"]), required: true),
            TransitiveRule(action: act(["playing"])[0], targets: obj(["guitar", "drum", "ball", "frisbee"]), required: false),
        ]
    }

    // MARK: - Rules used by the sampler and the captioner

    func isPerson(_ object: Int) -> Bool { objects[object].category == "person" }

    /// The transitive rule of `action` for `subject`, if the action takes an object for it. People fly
    /// kites; birds and planes just fly.
    func transitiveRule(action: Int, subject: Int) -> TransitiveRule? {
        if actions[action].name == "flying" {
            return isPerson(subject) ? TransitiveRule(action: action, targets: [index(of: "kite", kind: .object)!], required: true) : nil
        }
        return transitive.first { $0.action == action }
    }

    /// Scene phrases that need a moving subject: "through the snow", "across a field", "up a mountain".
    static let motionActions: Set<String> = ["running", "jumping", "walking", "swimming", "riding", "flying", "climbing"]

    static func isMotionPhrase(_ phrase: String) -> Bool {
        phrase.hasPrefix("through ") || phrase.hasPrefix("across ") || phrase.hasPrefix("up ")
    }

    /// Whether `action` can happen in `scene` (swimming needs water, flying needs the sky).
    func actionFits(_ action: Int, scene: Int) -> Bool {
        switch actions[action].name {
        case "swimming": return sceneKinds[scene] == .water || sceneKinds[scene] == .pool
        case "flying": return sceneKinds[scene] != .indoor
        default: return true
        }
    }
}
