import Foundation
import SCANSynthetic
import SCANTraining
import XCTest

/// The synthetic demo world: deterministic files in the original's precomp layout, plausible captions,
/// and hard-negative pairs that mean pooling cannot tell apart.
final class DemoWorldTests: XCTestCase {
    var tmp: String!

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "scan-demo-world-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        setenv("SCAN_QUIET", "1", 1)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    /// The medium world, written once for the tests that only read it.
    static let shared = NSTemporaryDirectory() + "scan-demo-world-shared-\(UUID().uuidString)"
    static var mediumFolder: String {
        get throws {
            let folder = shared + "/medium"
            if !FileManager.default.fileExists(atPath: folder + "/world.json") {
                setenv("SCAN_QUIET", "1", 1)
                try DemoWorld(options: medium).write(to: folder, progress: false)
            }
            return folder
        }
    }

    override class func tearDown() { try? FileManager.default.removeItem(atPath: shared) }

    static let small = DemoWorldOptions(seed: 7, trainImages: 30, devImages: 10, testImages: 12, regions: 10, imgDim: 32)
    /// Enough captions for every concept word to pass the vocabulary threshold; tiny features.
    static let medium = DemoWorldOptions(seed: 11, trainImages: 400, devImages: 40, testImages: 80, regions: 12, imgDim: 48)

    func write(_ options: DemoWorldOptions, _ name: String) throws -> String {
        let folder = tmp + "/" + name
        try DemoWorld(options: options).write(to: folder, progress: false)
        return folder
    }

    func bytes(_ folder: String, _ file: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
    }

    // MARK: - Determinism and files

    func testSameSeedGivesIdenticalBytesAndAnotherSeedDoesNot() throws {
        let a = try write(Self.small, "a")
        let b = try write(Self.small, "b")
        var other = Self.small
        other.seed = 8
        let c = try write(other, "c")
        for file in DemoWorld.fileNames {
            XCTAssertEqual(try bytes(a, file), try bytes(b, file), "\(file) differs between two runs with the same seed")
            if file != "world.json" && !file.hasSuffix("vocab.json") {
                XCTAssertNotEqual(try bytes(a, file), try bytes(c, file), "\(file) is the same for seeds 7 and 8")
            }
        }
        // Writing again over an existing world gives the same bytes and leaves no temporary file.
        try DemoWorld(options: Self.small).write(to: a, progress: false)
        for file in DemoWorld.fileNames { XCTAssertEqual(try bytes(a, file), try bytes(b, file)) }
        let listing = try FileManager.default.contentsOfDirectory(atPath: a).sorted()
        XCTAssertEqual(listing, DemoWorld.fileNames.sorted())
    }

    func testLayoutReadsBackAsPrecompSplits() throws {
        let options = Self.small
        let folder = try write(options, "w")
        let world = try DemoWorld(options: options)
        for split in DemoWorldSplit.allCases {
            let s = try PrecompSplit(folder: folder, split: split.rawValue)
            let n = options.imageCount(split)
            XCTAssertEqual(s.images.shape, [n, options.regions, options.imgDim])
            XCTAssertEqual(s.images.dtype, .float32)
            XCTAssertEqual(s.imageDivisor, 5)
            XCTAssertEqual(s.captions.count, 5 * n)
            XCTAssertNoThrow(try s.validate(imgDim: options.imgDim))
            // The file holds exactly what the library renders, captions in image order.
            let images = world.images(split)
            for row in [0, n - 1] {
                XCTAssertEqual(s.images.floats(offset: row * options.regions * options.imgDim, count: options.regions * options.imgDim),
                               world.features(for: images[row], row: row, split: split))
                XCTAssertEqual(Array(s.captions[(5 * row)..<(5 * row + 5)]), world.captions(for: images[row], row: row, split: split))
            }
        }
        // The header is numpy's, as NPY.write makes it.
        let header = DemoWorldNPYWriter.header(shape: [options.testImages, options.regions, options.imgDim])
        let reference = tmp + "/reference.npy"
        try NPY.write(Tensor(shape: [options.testImages, options.regions, options.imgDim],
                             data: [Float](repeating: 0, count: options.testImages * options.regions * options.imgDim)), to: reference)
        XCTAssertEqual(Array(try bytes(tmp, "reference.npy").prefix(header.count)), header)
        XCTAssertEqual(header.count % 64, 0)

        let manifest = try DemoWorldManifest.read(from: folder + "/world.json")
        XCTAssertTrue(manifest.synthetic)
        XCTAssertTrue(manifest.notice.contains("SYNTHETIC"))
        XCTAssertEqual(manifest.options, options)
        XCTAssertEqual(manifest.testImages, world.images(.test))
        XCTAssertEqual(manifest.concepts.objects.count, 40)
        XCTAssertEqual(manifest.concepts.attributes.count, 15)
        XCTAssertEqual(manifest.concepts.scenes.count, 20)
        XCTAssertEqual(manifest.concepts.actions.count, 15)
        XCTAssertEqual(try bytes(folder, "vocab.json"), try bytes(folder, "demo_precomp_vocab.json"))
        XCTAssertEqual(manifest.vocabularySize, try Vocabulary(contentsOf: folder + "/vocab.json").count)
    }

    func testFeaturesAreNonNegativeFiniteAndSparse() throws {
        let folder = try write(Self.small, "w")
        for split in DemoWorldSplit.allCases {
            let values = try PrecompSplit(folder: folder, split: split.rawValue).images.floats()
            XCTAssertTrue(values.allSatisfy { $0.isFinite && $0 >= 0 }, "\(split): negative or non-finite feature")
            let zeros = values.filter { $0 == 0 }.count
            XCTAssertGreaterThan(zeros, values.count / 3, "\(split): features should be sparse like pooled ReLU outputs")
            XCTAssertLessThan(zeros, values.count, "\(split): all zero")
        }
    }

    // MARK: - Vocabulary and captions

    func testVocabularyHasTheSpecialsAndTheConceptWords() throws {
        let folder = try Self.mediumFolder
        let vocabulary = try Vocabulary(contentsOf: folder + "/vocab.json")
        XCTAssertEqual(Array(vocabulary.idx2word.prefix(4)), ["<pad>", "<start>", "<end>", "<unk>"])
        let built = try VocabularyBuilder.build(captionFiles: [folder + "/train_caps.txt", folder + "/dev_caps.txt"], threshold: 4)
        XCTAssertEqual(vocabulary, built)
        let catalog = DemoWorldCatalog.standard
        for concept in catalog.allConcepts {
            XCTAssertTrue(vocabulary.contains(concept.name), "no \(concept.kind.rawValue) word '\(concept.name)' in the vocabulary")
        }
        for word in ["puppy", "kitten", "guy", "lady", "kid", "bike", "a", "is", "and", "."] {
            XCTAssertTrue(vocabulary.contains(word), "no '\(word)' in the vocabulary")
        }
    }

    func testCaptionsHaveFlickrLengthsAndNameTheMainObject() throws {
        let options = Self.medium
        let folder = try Self.mediumFolder
        let vocabulary = try Vocabulary(contentsOf: folder + "/vocab.json")
        let world = try DemoWorld(options: options)
        let tokenizer = Tokenizer()
        var lengths: [Int: Int] = [:]
        for split in DemoWorldSplit.allCases {
            let captions = try PrecompSplit(folder: folder, split: split.rawValue).captions
            let images = world.images(split)
            for (j, caption) in captions.enumerated() {
                let ids = try vocabulary.encode(caption, tokenizer: tokenizer)
                XCTAssertTrue((8...22).contains(ids.count), "\(split) caption \(j) has \(ids.count) tokens: \(caption)")
                lengths[ids.count, default: 0] += 1
                XCTAssertTrue(caption.hasSuffix(" ."), caption)
                XCTAssertEqual(caption, caption.trimmingCharacters(in: .whitespaces))
                let tokens = Set(tokenizer.tokenize(caption))
                let main = world.catalog.objects.first { $0.name == images[j / 5].objects[0].name }!
                XCTAssertFalse(tokens.isDisjoint(with: main.words), "caption '\(caption)' does not name \(main.name)")
            }
            // Five different captions per image, most of the time.
            let distinct = stride(from: 0, to: captions.count, by: 5).map { Set(captions[$0..<($0 + 5)]).count }
            XCTAssertGreaterThan(Double(distinct.reduce(0, +)) / Double(captions.count), 0.9)
        }
        XCTAssertGreaterThan(lengths.count, 6, "caption lengths should vary: \(lengths)")
        let captions = try String(contentsOfFile: folder + "/train_caps.txt", encoding: .utf8)
        XCTAssertTrue(captions.hasSuffix(" .\n"))
        XCTAssertFalse(captions.contains("\r"))
        // Flickr-like casing: mostly capitalised, sometimes not.
        let firsts = captions.split(separator: "\n").compactMap(\.first)
        let upper = firsts.filter(\.isUppercase).count
        XCTAssertGreaterThan(upper, firsts.count / 2)
        XCTAssertLessThan(upper, firsts.count)
    }

    // MARK: - Hard negatives

    func testHardNegativePairsMatchWhenMeanPooledButNotWhenBound() throws {
        let options = Self.medium
        let folder = try Self.mediumFolder
        let world = try DemoWorld(options: options)
        let split = try PrecompSplit(folder: folder, split: "test")
        let images = world.images(.test)
        let pairs = images.indices.filter { row in images[row].partner.map { $0 > row } ?? false }
        XCTAssertEqual(pairs.count, world.pairCount(.test))
        XCTAssertEqual(pairs.count, 10)  // 25% of 80 images

        let per = options.regions * options.imgDim
        let means: [[Float]] = images.indices.map { row in
            let f = split.images.floats(offset: row * per, count: per)
            return (0..<options.imgDim).map { d in
                stride(from: d, to: per, by: options.imgDim).reduce(Float(0)) { $0 + f[$1] } / Float(options.regions)
            }
        }
        func distance(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }
        func concepts(_ image: DemoWorldImage) -> Set<String> {
            Set(["scene:" + image.scene] + image.objects.map { "object:" + $0.name })
        }
        func bindings(_ image: DemoWorldImage) -> [String] {
            image.objects.map { "\($0.name)/\($0.attribute ?? "-")/\($0.action ?? "-")" }
        }
        func attributesAndActions(_ image: DemoWorldImage) -> [String] {
            (image.objects.compactMap(\.attribute) + image.objects.compactMap(\.action)).sorted()
        }

        for a in pairs {
            let b = images[a].partner!
            XCTAssertEqual(images[b].partner, a)
            XCTAssertNotNil(images[a].swap)
            // Same concepts, same clutter, bound differently.
            XCTAssertEqual(images[a].scene, images[b].scene)
            XCTAssertEqual(images[a].objects.map(\.name), images[b].objects.map(\.name))
            XCTAssertEqual(images[a].clutter, images[b].clutter)
            XCTAssertEqual(attributesAndActions(images[a]), attributesAndActions(images[b]))
            XCTAssertNotEqual(bindings(images[a]), bindings(images[b]))
            // Mean-pooled features are nearly the same, closer than to any image with other concepts.
            let pairDistance = distance(means[a], means[b])
            let others = images.indices.filter { concepts(images[$0]) != concepts(images[a]) }
            let nearestOther = others.map { distance(means[a], means[$0]) }.min()!
            XCTAssertLessThan(pairDistance, 0.5 * nearestOther, "pair \(a)-\(b): mean pooling separates it")
            // The captions differ and state the exchanged details.
            let capsA = Set(split.captions[(5 * a)..<(5 * a + 5)]), capsB = Set(split.captions[(5 * b)..<(5 * b + 5)])
            XCTAssertTrue(capsA.isDisjoint(with: capsB), "pair \(a)-\(b) shares a caption")
            let exchanged = images[a].swap == .attribute ? images[a].objects[0].attribute! : images[a].objects[0].action!
            let words = world.catalog.concepts(images[a].swap == .attribute ? .attribute : .action)
                .first { $0.name == exchanged }!.words
            for caption in capsA {
                XCTAssertFalse(Set(Tokenizer().tokenize(caption)).isDisjoint(with: words), "'\(caption)' does not say \(exchanged)")
            }
        }

        // The regions tell the pair apart: the best match of the first object's prototype plus its
        // attribute's differs between the two images of an attribute pair.
        for a in pairs where images[a].swap == .attribute {
            let b = images[a].partner!
            let o = world.catalog.index(of: images[a].objects[0].name, kind: .object)!
            let attrA = world.catalog.index(of: images[a].objects[0].attribute!, kind: .attribute)!
            let query = zip(world.prototypes.dense(.object, o), world.prototypes.dense(.attribute, attrA)).map { $0 + 0.8 * $1 }
            func best(_ row: Int) -> Float {
                let f = split.images.floats(offset: row * per, count: per)
                return (0..<options.regions).map { r in
                    let region = Array(f[(r * options.imgDim)..<((r + 1) * options.imgDim)])
                    let dot = zip(region, query).reduce(0) { $0 + $1.0 * $1.1 }
                    let norm = (region.reduce(0) { $0 + $1 * $1 } * query.reduce(0) { $0 + $1 * $1 }).squareRoot()
                    return dot / norm
                }.max()!
            }
            XCTAssertGreaterThan(best(a), best(b), "pair \(a)-\(b): no region binds \(images[a].objects[0].name) to its attribute")
        }
    }

    // MARK: - Pieces

    func testNPYWriterAppearsOnlyWhenComplete() throws {
        let path = tmp + "/x.npy"
        let writer = try DemoWorldNPYWriter(path: path, shape: [2, 3])
        try writer.append([1, 2, 3])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try writer.append([4, 5, 6])
        try writer.finish()
        XCTAssertEqual(try NPY.read(path).data, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try NPY.read(path).shape, [2, 3])

        let incomplete = try DemoWorldNPYWriter(path: tmp + "/y.npy", shape: [2, 3])
        try incomplete.append([1, 2, 3])
        XCTAssertThrowsError(try incomplete.finish())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp), ["x.npy"])
    }

    func testInvalidOptionsAreRejected() {
        var o = Self.small
        o.testImages = 0
        XCTAssertThrowsError(try DemoWorld(options: o))
        o = Self.small
        o.regions = 4
        XCTAssertThrowsError(try DemoWorld(options: o))
        o = Self.small
        o.imgDim = 8
        XCTAssertThrowsError(try DemoWorld(options: o))
        o = Self.small
        o.pairFraction = 1.5
        XCTAssertThrowsError(try DemoWorld(options: o))
    }

    func testGroundTruthFollowsTheCatalogRules() throws {
        let world = try DemoWorld(options: Self.medium)
        let catalog = world.catalog
        for split in DemoWorldSplit.allCases {
            for image in world.images(split) {
                XCTAssertTrue((1...3).contains(image.objects.count))
                XCTAssertEqual(Set(image.objects.map(\.name)).count, image.objects.count, "repeated object")
                XCTAssertTrue(Set(image.clutter).isDisjoint(with: image.objects.map(\.name)))
                XCTAssertNotNil(catalog.index(of: image.scene, kind: .scene))
                for object in image.objects {
                    XCTAssertNotNil(catalog.index(of: object.name, kind: .object))
                    if let a = object.attribute { XCTAssertNotNil(catalog.index(of: a, kind: .attribute)) }
                    if let a = object.action { XCTAssertNotNil(catalog.index(of: a, kind: .action)) }
                    if let t = object.target { XCTAssertTrue(t < image.objects.count && image.objects[t].action == nil) }
                }
                for object in image.objects where ["riding", "throwing", "catching"].contains(object.action ?? "")
                    || (object.action == "flying" && catalog.objects[catalog.index(of: object.name, kind: .object)!].category == "person") {
                    XCTAssertNotNil(object.target, "\(object.name) \(object.action!) without an object")
                }
            }
        }
    }
}
