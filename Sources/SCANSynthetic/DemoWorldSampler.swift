/// Draws the ground truth of the images of a split: single images, and hard-negative pairs (two
/// consecutive rows with the same scene, objects and clutter whose first two objects exchange their
/// attributes or actions).
///
/// The image at row i depends only on the seed, the split, the pair layout of the split and i.
struct DemoWorldSampler: Sendable {
    let catalog: DemoWorldCatalog
    let seed: UInt64
    /// Regions per image: fewer regions leave room for fewer clutter regions.
    let regions: Int

    /// Number of hard-negative pairs in a split of `count` images.
    static func pairCount(images count: Int, fraction: Double) -> Int {
        min(count / 2, Int((Double(count) * fraction / 2).rounded()))
    }

    func images(split: DemoWorldSplit, count: Int, pairFraction: Double) -> [DemoWorldImage] {
        let pairs = Self.pairCount(images: count, fraction: pairFraction)
        // Units: true = a pair (two rows), false = a single image; their order is random.
        var units = [Bool](repeating: true, count: pairs) + [Bool](repeating: false, count: count - 2 * pairs)
        var order = DemoWorldRandom(seed: seed, split.streamID, 0)
        order.shuffle(&units)
        var out: [DemoWorldImage] = []
        out.reserveCapacity(count)
        for isPair in units {
            let row = out.count
            var rng = DemoWorldRandom(seed: seed, split.streamID, UInt64(row), 3)
            if isPair {
                var (first, swap) = samplePair(&rng)
                first.clutter = sampleClutter(&rng, excluding: first.objects.map(\.name))
                var second = first.swapped(swap)
                first.partner = row + 1
                first.swap = swap
                second.partner = row
                second.swap = swap
                out.append(first)
                out.append(second)
            } else {
                var image = sampleSingle(&rng)
                image.clutter = sampleClutter(&rng, excluding: image.objects.map(\.name))
                out.append(image)
            }
        }
        if split == .test { placeShowcase(in: &out, split: split) }
        return out
    }

    // MARK: - Showcase

    /// The scene and main object of the README's query "a dog on a beach".
    static let showcase = (object: "dog", scene: "beach")

    /// Number of showcase images in a test split of `count` images: a few, so that the README's
    /// query has true answers among the test images however the rest were drawn (none when the
    /// split is too small to spare them).
    static func showcaseCount(images count: Int) -> Int { count < 10 ? 0 : min(6, max(3, count / 50)) }

    /// Replaces single images spread over the split with dogs on a beach (each with its own
    /// attribute, action, companion and clutter).
    func placeShowcase(in images: inout [DemoWorldImage], split: DemoWorldSplit) {
        let singles = images.indices.filter { images[$0].partner == nil }
        let n = min(singles.count, Self.showcaseCount(images: images.count))
        guard n > 0,
              let scene = catalog.index(of: Self.showcase.scene, kind: .scene),
              let dog = catalog.index(of: Self.showcase.object, kind: .object) else { return }
        for j in 0..<n {
            let row = singles[j * singles.count / n]
            var rng = DemoWorldRandom(seed: seed, split.streamID, UInt64(row), 5)
            let rule = catalog.objectRules[dog]
            var main = DemoWorldObject(name: Self.showcase.object)
            if !rule.attributes.isEmpty && rng.chance(0.75) { main.attribute = catalog.attributes[rng.pick(rule.attributes)].name }
            let actions = plainActions(dog, scene: scene)
            if !actions.isEmpty && rng.chance(0.7) { main.action = catalog.actions[rng.pick(actions)].name }
            var objects = [main]
            let others = objectsFitting(scene: scene).filter { $0 != dog }
            if !others.isEmpty && rng.chance(0.4) {
                let o = rng.pick(others)
                var second = DemoWorldObject(name: catalog.objects[o].name)
                let attrs = catalog.objectRules[o].attributes
                if !attrs.isEmpty && rng.chance(0.6) { second.attribute = catalog.attributes[rng.pick(attrs)].name }
                objects.append(second)
            }
            var image = DemoWorldImage(scene: Self.showcase.scene, objects: objects)
            image.clutter = sampleClutter(&rng, excluding: objects.map(\.name))
            images[row] = image
        }
    }

    // MARK: - Single images

    private func objectsFitting(scene: Int) -> [Int] {
        catalog.objects.indices.filter { catalog.objectRules[$0].scenes.contains(scene) }
    }

    /// Targets the subject could act on with `action` in `scene`, not already in the image.
    private func targets(action: Int, subject: Int, scene: Int, used: Set<Int>) -> [Int] {
        guard let rule = catalog.transitiveRule(action: action, subject: subject) else { return [] }
        return rule.targets.filter { t in
            !used.contains(t) && catalog.objectRules[t].scenes.contains(scene)
                && (catalog.isPerson(subject) || catalog.objects[t].category != "thing" || ["ball", "frisbee"].contains(catalog.objects[t].name))
        }
    }

    func sampleSingle(_ rng: inout DemoWorldRandom) -> DemoWorldImage {
        while true {
            let scene = rng.int(catalog.scenes.count)
            let candidates = objectsFitting(scene: scene)
            if candidates.isEmpty { continue }
            let u = rng.uniform()
            let wanted = u < 0.45 ? 1 : (u < 0.85 ? 2 : 3)
            var objects: [DemoWorldObject] = []
            var used: Set<Int> = []
            while objects.count < wanted {
                let free = candidates.filter { !used.contains($0) }
                if free.isEmpty { break }
                let o = rng.pick(free)
                used.insert(o)
                let rule = catalog.objectRules[o]
                var object = DemoWorldObject(name: catalog.objects[o].name)
                if !rule.attributes.isEmpty && rng.chance(0.75) {
                    object.attribute = catalog.attributes[rng.pick(rule.attributes)].name
                }
                var target: Int?
                if rng.chance(0.7) {
                    // Actions that fit the scene; one that needs a target needs a free one and room for it.
                    let room = objects.count + 2 <= 3
                    let fitting = rule.actions.filter { a in
                        guard catalog.actionFits(a, scene: scene) else { return false }
                        guard let t = catalog.transitiveRule(action: a, subject: o), t.required else { return true }
                        return room && !targets(action: a, subject: o, scene: scene, used: used).isEmpty
                    }
                    if !fitting.isEmpty {
                        let a = rng.pick(fitting)
                        object.action = catalog.actions[a].name
                        let options = room ? targets(action: a, subject: o, scene: scene, used: used) : []
                        if let t = catalog.transitiveRule(action: a, subject: o), !options.isEmpty, t.required || rng.chance(0.5) {
                            target = rng.pick(options)
                        }
                    }
                }
                if let t = target {
                    object.target = objects.count + 1
                    objects.append(object)
                    used.insert(t)
                    var patient = DemoWorldObject(name: catalog.objects[t].name)
                    let attributes = catalog.objectRules[t].attributes
                    if !attributes.isEmpty && rng.chance(0.6) { patient.attribute = catalog.attributes[rng.pick(attributes)].name }
                    objects.append(patient)
                } else {
                    objects.append(object)
                }
            }
            if !objects.isEmpty { return DemoWorldImage(scene: catalog.scenes[scene].name, objects: objects) }
        }
    }

    // MARK: - Hard-negative pairs

    /// Intransitive actions of `object` that fit `scene` (a pair exchanges actions without targets).
    private func plainActions(_ object: Int, scene: Int) -> [Int] {
        catalog.objectRules[object].actions.filter { a in
            catalog.actionFits(a, scene: scene) && !(catalog.transitiveRule(action: a, subject: object)?.required ?? false)
        }
    }

    /// The first image of a pair and what the second exchanges.
    func samplePair(_ rng: inout DemoWorldRandom) -> (DemoWorldImage, DemoWorldImage.Swap) {
        while true {
            let scene = rng.int(catalog.scenes.count)
            let candidates = objectsFitting(scene: scene)
            guard candidates.count >= 2 else { continue }
            let swap: DemoWorldImage.Swap = rng.chance(0.7) ? .attribute : .action
            let o0 = rng.pick(candidates)
            let o1 = rng.pick(candidates.filter { $0 != o0 })
            let r0 = catalog.objectRules[o0], r1 = catalog.objectRules[o1]
            var first = DemoWorldObject(name: catalog.objects[o0].name)
            var second = DemoWorldObject(name: catalog.objects[o1].name)
            switch swap {
            case .attribute:
                let common = r0.attributes.filter(r1.attributes.contains)
                guard common.count >= 2 else { continue }
                let picked = rng.sample(2, of: common.count)
                first.attribute = catalog.attributes[common[picked[0]]].name
                second.attribute = catalog.attributes[common[picked[1]]].name
                for (o, index) in [(o0, 0), (o1, 1)] {
                    let acts = plainActions(o, scene: scene)
                    if !acts.isEmpty && rng.chance(0.5) {
                        let name = catalog.actions[rng.pick(acts)].name
                        if index == 0 { first.action = name } else { second.action = name }
                    }
                }
            case .action:
                let a1 = plainActions(o1, scene: scene)
                let common = plainActions(o0, scene: scene).filter(a1.contains)
                guard common.count >= 2 else { continue }
                let picked = rng.sample(2, of: common.count)
                first.action = catalog.actions[common[picked[0]]].name
                second.action = catalog.actions[common[picked[1]]].name
                if !r0.attributes.isEmpty && rng.chance(0.6) { first.attribute = catalog.attributes[rng.pick(r0.attributes)].name }
                if !r1.attributes.isEmpty && rng.chance(0.6) { second.attribute = catalog.attributes[rng.pick(r1.attributes)].name }
            }
            var objects = [first, second]
            let others = candidates.filter { $0 != o0 && $0 != o1 }
            if !others.isEmpty && rng.chance(0.3) {
                let o2 = rng.pick(others)
                var third = DemoWorldObject(name: catalog.objects[o2].name)
                let attrs = catalog.objectRules[o2].attributes
                if !attrs.isEmpty && rng.chance(0.6) { third.attribute = catalog.attributes[rng.pick(attrs)].name }
                let acts = plainActions(o2, scene: scene)
                if !acts.isEmpty && rng.chance(0.5) { third.action = catalog.actions[rng.pick(acts)].name }
                objects.append(third)
            }
            return (DemoWorldImage(scene: catalog.scenes[scene].name, objects: objects), swap)
        }
    }

    // MARK: - Clutter

    /// One to three unrelated objects (fewer with few regions).
    func sampleClutter(_ rng: inout DemoWorldRandom, excluding names: [String]) -> [String] {
        let most = regions >= 24 ? 3 : (regions >= 12 ? 2 : 1)
        let n = rng.int(1...most)
        let pool = catalog.objects.map(\.name).filter { !names.contains($0) }
        return rng.sample(n, of: pool.count).map { pool[$0] }
    }
}
