import Foundation

/// Makes the region features of a synthetic image from its ground truth (regions x img_dim float32,
/// all values non-negative):
///
/// - object regions (2 to 6 per object with 36 regions): the object's prototype plus its attribute's
///   and action's prototypes, and a little scene context; an attribute is bound to the regions of its
///   own object only;
/// - scene regions: the scene's prototype;
/// - clutter regions: weak prototypes of unrelated objects;
/// - background regions: a faint scene prototype;
///
/// every prototype value jittered by up to +-25%, sparse exponential noise on every dimension, and
/// the regions shuffled.
///
/// The two images of a hard-negative pair share their layout (region counts and weights; the two
/// exchanged objects get the same number of regions and the same total attribute and action weight),
/// so their mean-pooled features are equal up to the jitter and noise: only which regions carry which
/// attribute tells them apart.
struct DemoWorldRenderer: Sendable {
    let catalog: DemoWorldCatalog
    let prototypes: DemoWorldPrototypes
    let seed: UInt64
    let regions: Int

    static let attributeWeight: Float = 0.8
    static let actionWeight: Float = 0.6
    static let jitter: Float = 0.25
    static let noiseProbability = 0.08
    static let noiseScale: Float = 0.15

    private let objectIndex: [String: Int]
    private let attributeIndex: [String: Int]
    private let actionIndex: [String: Int]
    private let sceneIndex: [String: Int]

    init(catalog: DemoWorldCatalog, prototypes: DemoWorldPrototypes, seed: UInt64, regions: Int) {
        self.catalog = catalog
        self.prototypes = prototypes
        self.seed = seed
        self.regions = regions
        func index(_ list: [DemoWorldConcept]) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: list.enumerated().map { ($1.name, $0) })
        }
        objectIndex = index(catalog.objects)
        attributeIndex = index(catalog.attributes)
        actionIndex = index(catalog.actions)
        sceneIndex = index(catalog.scenes)
    }

    /// One region's ingredients: prototypes with weights.
    typealias Recipe = [(DemoWorldPrototypes.Sparse, Float)]

    /// Region counts and weights; for a pair drawn from the pair's shared stream.
    func recipes(image: DemoWorldImage, row: Int, split: DemoWorldSplit) -> [Recipe] {
        let layoutRow = min(row, image.partner ?? row)
        var rng = DemoWorldRandom(seed: seed, split.streamID, UInt64(layoutRow), 1)
        let r = regions
        let nObjects = image.objects.count
        let base = max(2, r / 9)
        var perObject = (0..<nObjects).map { _ in base + rng.int(0...max(1, base / 2)) }
        if image.partner != nil { perObject = perObject.map { _ in perObject[0] } }
        var sceneCount = max(1, r / 8) + rng.int(0...max(1, r / 12))
        var clutterCount = image.clutter.count
        // Fit the budget: clutter first, then scene regions (keep one), then objects evenly.
        func total() -> Int { perObject.reduce(0, +) + sceneCount + clutterCount }
        while total() > r && clutterCount > 0 { clutterCount -= 1 }
        while total() > r && sceneCount > 1 { sceneCount -= 1 }
        while total() > r && perObject.allSatisfy({ $0 > 1 }) {
            if image.partner != nil { perObject = perObject.map { $0 - 1 } } else {
                let i = perObject.indices.max { perObject[$0] < perObject[$1] }!
                perObject[i] -= 1
            }
        }
        precondition(total() <= r, "too few regions for \(nObjects) objects")

        let scene = prototypes.prototype(.scene, sceneIndex[image.scene]!)
        var out: [Recipe] = []
        out.reserveCapacity(r)
        for (object, n) in zip(image.objects, perObject) {
            let proto = prototypes.prototype(.object, objectIndex[object.name]!)
            let weights = (0..<n).map { _ in rng.uniform(0.7, 1.3) }
            // Attribute and action weights vary by region but sum to n x their weight.
            func normalized() -> [Float] {
                let g = (0..<n).map { _ in rng.uniform(0.5, 1.5) }
                let sum = g.reduce(0, +)
                return g.map { $0 * Float(n) / sum }
            }
            let attributeWeights = normalized(), actionWeights = normalized()
            let context = (0..<n).map { _ in rng.uniform(0, 0.15) }
            for k in 0..<n {
                var recipe: Recipe = [(proto, weights[k]), (scene, context[k])]
                if let a = object.attribute {
                    recipe.append((prototypes.prototype(.attribute, attributeIndex[a]!), Self.attributeWeight * attributeWeights[k]))
                }
                if let a = object.action {
                    recipe.append((prototypes.prototype(.action, actionIndex[a]!), Self.actionWeight * actionWeights[k]))
                }
                out.append(recipe)
            }
        }
        for _ in 0..<sceneCount { out.append([(scene, rng.uniform(0.6, 1.2))]) }
        for name in image.clutter.prefix(clutterCount) {
            out.append([(prototypes.prototype(.object, objectIndex[name]!), rng.uniform(0.3, 0.7)), (scene, rng.uniform(0, 0.2))])
        }
        while out.count < r { out.append([(scene, rng.uniform(0.1, 0.4))]) }
        return out
    }

    /// Writes the image's regions x imgDim features to `out`.
    func render(image: DemoWorldImage, row: Int, split: DemoWorldSplit, into out: UnsafeMutableBufferPointer<Float>) {
        let dim = prototypes.imgDim
        precondition(out.count == regions * dim)
        var recipes = recipes(image: image, row: row, split: split)
        var rng = DemoWorldRandom(seed: seed, split.streamID, UInt64(row), 2)
        rng.shuffle(&recipes)
        out.initialize(repeating: 0)
        let q = Self.noiseProbability
        for (region, recipe) in recipes.enumerated() {
            let base = region * dim
            for (proto, weight) in recipe where weight > 0 {
                for (i, v) in zip(proto.indices, proto.values) {
                    out[base + Int(i)] += weight * v * (1 + Self.jitter * rng.uniform(-1, 1))
                }
            }
            for d in 0..<dim {
                // One draw per dimension: below q it also gives the exponential magnitude.
                let u = Double(rng.next() >> 11) * 0x1p-53
                if u < q { out[base + d] += Self.noiseScale * Float(-Foundation.log((q - u) / q)) }
            }
        }
    }
}
