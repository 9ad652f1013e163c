import SCANTraining

/// Writes five Flickr30K-like captions per synthetic image from varied templates and synonyms:
/// "A brown dog is running on the beach .", "a man in a red shirt riding a horse next to a truck .",
/// "On a busy street , a bus and an old car ." Captions leave details out at random (an attribute, an
/// action, the scene, a secondary object), but never the main object, and the captions of a
/// hard-negative pair always state the details the pair exchanges. Every caption has 8 to 20 tokens
/// (NLTK Treebank tokens, the final " ." included).
struct DemoWorldCaptioner: Sendable {
    let catalog: DemoWorldCatalog
    let seed: UInt64
    let tokenizer = Tokenizer()

    static let tokenRange = 8...20

    /// The five captions of the image at `row` of `split`.
    func captions(image: DemoWorldImage, row: Int, split: DemoWorldSplit) -> [String] {
        var rng = DemoWorldRandom(seed: seed, split.streamID, UInt64(row), 4)
        let resolved = Resolved(image: image, catalog: catalog)
        var out: [String] = []
        for _ in 0..<DemoWorldOptions.captionsPerImage {
            var verbosity = 0
            var chosen: String?
            var repeated: String?  // in range, but said already
            var closest: (caption: String, miss: Int)?
            for _ in 0..<60 {
                let caption = compose(resolved, verbosity: verbosity, rng: &rng)
                let n = tokenizer.tokenize(caption).count
                if Self.tokenRange.contains(n) {
                    if !out.contains(caption) { chosen = caption; break }
                    if repeated == nil { repeated = caption }
                    continue
                }
                let miss = n < Self.tokenRange.lowerBound ? Self.tokenRange.lowerBound - n : n - Self.tokenRange.upperBound
                if closest == nil || miss < closest!.miss { closest = (caption, miss) }
                verbosity += n < Self.tokenRange.lowerBound ? 1 : -1
            }
            out.append(chosen ?? repeated ?? closest!.caption)
        }
        return out
    }

    // MARK: - Composition

    /// The image with concept indices.
    struct Resolved {
        struct Object {
            var object: Int
            var attribute: Int?
            var action: Int?
            var target: Int?
        }
        var scene: Int
        var objects: [Object]
        /// Objects whose exchanged detail every caption must state (a hard-negative pair).
        var required: Set<Int>
        var swap: DemoWorldImage.Swap?

        init(image: DemoWorldImage, catalog: DemoWorldCatalog) {
            scene = catalog.index(of: image.scene, kind: .scene)!
            objects = image.objects.map { o in
                Object(object: catalog.index(of: o.name, kind: .object)!,
                       attribute: o.attribute.map { catalog.index(of: $0, kind: .attribute)! },
                       action: o.action.map { catalog.index(of: $0, kind: .action)! },
                       target: o.target)
            }
            swap = image.partner == nil ? nil : image.swap
            required = swap == nil ? [] : [0, 1]
        }
    }

    enum VerbForm { case progressive, participle, present }

    private func probability(_ base: Double, _ verbosity: Int) -> Double {
        min(1, max(0, base + 0.2 * Double(verbosity)))
    }

    /// A caption (with its final " .") drawn with detail probabilities shifted by `verbosity`
    /// (positive: more details, negative: fewer).
    func compose(_ image: Resolved, verbosity: Int, rng: inout DemoWorldRandom) -> String {
        let n = image.objects.count
        var mention = [Bool](repeating: false, count: n)
        var withAttribute = [Bool](repeating: false, count: n)
        var withAction = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let required = image.required.contains(i)
            mention[i] = i == 0 || required || rng.chance(probability(0.8, verbosity))
            withAttribute[i] = image.objects[i].attribute != nil
                && ((required && image.swap == .attribute) || rng.chance(probability(0.7, verbosity)))
            withAction[i] = image.objects[i].action != nil
                && ((required && image.swap == .action) || rng.chance(probability(0.75, verbosity)))
        }
        // A target named in its subject's verb phrase ("riding a horse") is not a clause of its own.
        var inVerbPhrase = [Bool](repeating: false, count: n)
        for i in 0..<n where mention[i] && withAction[i] {
            if let t = image.objects[i].target, t < n {
                inVerbPhrase[t] = true
                mention[t] = true
            }
        }
        let u = rng.uniform()
        let form: VerbForm = u < 0.45 ? .progressive : (u < 0.85 ? .participle : .present)

        // The clauses (a noun phrase with an optional verb phrase), main object first most of the time.
        var order = (0..<n).filter { mention[$0] && !inVerbPhrase[$0] }
        if order.count >= 2 && rng.chance(0.25) { order.swapAt(0, 1) }
        enum Join { case single, and, spatial(String), with, list }
        let join: Join
        switch order.count {
        case 1: join = .single
        case 2:
            let v = rng.uniform()
            if v < 0.55 { join = .and } else if v < 0.85 || withAction[order[1]] {
                join = .spatial(rng.pick(["next to", "near", "beside", "behind"]))
            } else { join = .with }
        default: join = .list
        }
        // Only the first clause, or clauses joined by "and", take a finite verb ("is running", "runs").
        var clauses: [[String]] = []
        for (k, i) in order.enumerated() {
            var words = nounPhrase(image.objects[i], attribute: withAttribute[i], rng: &rng)
            if withAction[i], let a = image.objects[i].action {
                var clauseForm = form
                switch join {
                case .list: clauseForm = .participle
                case .spatial, .with: if k > 0 { clauseForm = .participle }
                // "A car and a man lying ...", not "A car and a man lies ...".
                case .and: if k > 0 && !withAction[order[0]] { clauseForm = .participle }
                case .single: break
                }
                words += verbPhrase(image, subject: i, action: a, form: clauseForm, withAttribute: withAttribute, rng: &rng)
            }
            clauses.append(words)
        }
        let anyVerb = order.contains { withAction[$0] }

        var sentence: [String]
        var plural = false
        switch join {
        case .single: sentence = clauses[0]
        case .and: sentence = clauses[0] + ["and"] + clauses[1]; plural = true
        case let .spatial(word): sentence = clauses[0] + [word] + clauses[1]
        case .with: sentence = clauses[0] + ["with"] + clauses[1]
        case .list:
            sentence = clauses[0]
            for c in clauses.dropFirst().dropLast() { sentence += [","] + c }
            sentence += ["and"] + clauses.last!
            plural = true
        }

        if rng.chance(probability(0.75, verbosity)) {
            // "through the snow" needs something moving.
            let moving = order.contains { i in
                withAction[i] && DemoWorldCatalog.motionActions.contains(catalog.actions[image.objects[i].action!].name)
            }
            let phrases = catalog.scenePhrases[image.scene].filter { moving || !DemoWorldCatalog.isMotionPhrase($0) }
            let phrase = rng.pick(phrases)
            let v = rng.uniform()
            if !anyVerb && form != .participle {
                // "A red car is on the street ." / "A dog and a cat are in the park ."
                sentence += [plural ? "are" : "is", phrase]
            } else if !anyVerb && v < 0.4 {
                sentence = [plural ? "there are" : "there is"] + sentence + [phrase]
            } else if v < 0.15 {
                sentence = [phrase, ","] + sentence
            } else {
                sentence += [phrase]
            }
        } else if !anyVerb && rng.chance(0.5) {
            sentence = [plural ? "there are" : "there is"] + sentence
        }


        var text = sentence.joined(separator: " ")
        if rng.chance(0.85), let first = text.unicodeScalars.first, ("a"..."z").contains(first) {
            text = first.properties.uppercaseMapping + String(text.unicodeScalars.dropFirst())
        }
        return text + " ."
    }

    /// "a brown dog", "a man in a red shirt", "an elderly woman".
    func nounPhrase(_ o: Resolved.Object, attribute: Bool, rng: inout DemoWorldRandom) -> [String] {
        let noun = word(catalog.objects[o.object], rng: &rng)
        guard attribute, let a = o.attribute else { return [article(noun), noun] }
        let concept = catalog.attributes[a]
        let rule = catalog.objectRules[o.object]
        if catalog.isPerson(o.object), concept.category == "color" || concept.category == "pattern", !rule.garments.isEmpty {
            let adjective = concept.words[0]
            let garment = rng.pick(rule.garments)
            let u = rng.uniform()
            if u < 0.15 && concept.category == "color" { return [article(noun), noun, "in", adjective] }
            return [article(noun), noun, u < 0.6 ? "in" : "wearing", article(adjective), adjective, garment]
        }
        // "elderly" is for people.
        let adjective = concept.name == "old" && !catalog.isPerson(o.object) ? concept.name : word(concept, rng: &rng)
        return [article(adjective), adjective, noun]
    }

    /// "is riding a brown horse", "running around", "plays the guitar".
    func verbPhrase(_ image: Resolved, subject: Int, action: Int, form: VerbForm, withAttribute: [Bool],
                    rng: inout DemoWorldRandom) -> [String] {
        let target = image.objects[subject].target.flatMap { $0 < image.objects.count ? $0 : nil }
        let participles = catalog.actionParticiples[action]
        var verb: [String]
        switch form {
        case .progressive: verb = ["is", target == nil ? rng.pick(participles) : participles[0]]
        case .participle: verb = [target == nil ? rng.pick(participles) : participles[0]]
        case .present: verb = [catalog.actionPresent[action]]
        }
        guard let t = target else { return verb }
        let object = image.objects[t]
        let name = catalog.objects[object.object].name
        var np = nounPhrase(object, attribute: withAttribute[t], rng: &rng)
        if catalog.actions[action].name == "playing" {
            if name == "guitar" || name == "drum" {
                if !withAttribute[t] && rng.chance(0.6) { np[0] = "the" }
                return verb + np
            }
            return verb + ["with"] + np
        }
        return verb + np
    }

    /// A word for the concept: its name most of the time, otherwise a synonym.
    func word(_ concept: DemoWorldConcept, rng: inout DemoWorldRandom) -> String {
        concept.words.count == 1 || rng.chance(0.65) ? concept.words[0] : rng.pick(concept.words.dropFirst())
    }

    func article(_ next: String) -> String {
        guard let c = next.first else { return "a" }
        return "aeiou".contains(c) ? "an" : "a"
    }
}
