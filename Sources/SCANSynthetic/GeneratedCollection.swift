import Foundation
import SCANCore
import SCANTraining

/// A generated image-caption collection with known matches, in the original's precomp layout, for
/// tests and benchmarks of retrieval (no real data is needed or faked).
///
/// Each image shows three distinct objects out of `nouns`: one region per object (the noun's sparse
/// non-negative prototype, scaled, plus noise) and background regions of noise. Its five captions name
/// the three objects in different orders and phrasings, so a caption identifies its image (the test
/// split uses distinct triples) only when all three of its nouns are matched.
public struct GeneratedCollection: Sendable {
    public static let defaultNouns = ["dog", "cat", "boat", "horse", "car", "kite", "bird", "ball", "tree", "bike", "hat", "cup",
                                      "chair", "lamp", "book", "shoe", "train", "clock", "vase", "sheep", "cow", "bus", "bench", "table"]
    /// Forty nouns, for collections with more distinct object sets.
    public static let moreNouns = defaultNouns + ["fish", "duck", "goat", "pig", "bear", "frog", "boot", "kettle", "plate", "spoon",
                                                  "guitar", "drum", "flag", "rope", "tent", "sofa"]
    public var nouns = GeneratedCollection.defaultNouns
    public var imgDim = 24
    public var regions = 5
    public var seed: UInt64 = 7
    /// Objects per image (one region each; the other regions are background).
    public var objectsPerImage = 3
    /// How many of its image's objects a caption names (drawn per caption); nil: all of them.
    public var mentioned: ClosedRange<Int>? = nil
    /// Amplitude of the uniform noise added to every feature value.
    public var noise: Float = 0.25
    /// Images per split; `test` uses distinct noun triples.
    public var splits: [(name: String, images: Int)] = [("train", 600), ("dev", 100), ("test", 300)]

    public init() {}

    /// Writes `{split}_ims.npy`, `{split}_caps.txt` for every split and `vocab.json` (threshold 1, train + dev captions).
    public func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var rng = Generator(seed: seed)
        let prototypes: [[Float]] = nouns.map { _ in
            (0..<imgDim).map { _ in rng.uniform() < 0.3 ? 0.5 + 1.5 * rng.uniform() : 0 }
        }
        precondition(objectsPerImage >= 1 && objectsPerImage <= regions && objectsPerImage <= nouns.count)
        var allTriples: [[Int]] = []
        func combinations(_ start: Int, _ current: [Int]) {
            if current.count == objectsPerImage { allTriples.append(current); return }
            if start >= nouns.count { return }
            for i in start..<nouns.count { combinations(i + 1, current + [i]) }
        }
        combinations(0, [])
        for (name, n) in splits {
            let triples: [[Int]]
            if name == "test" {
                precondition(n <= allTriples.count, "\(n) distinct triples of \(nouns.count) nouns do not exist")
                var pool = allTriples
                for i in stride(from: pool.count - 1, to: 0, by: -1) { pool.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                triples = Array(pool.prefix(n))
            } else {
                triples = (0..<n).map { _ in allTriples[Int(rng.next() % UInt64(allTriples.count))] }
            }
            var feats = Tensor(zeros: [n, regions, imgDim])
            var caps: [String] = []
            for (i, t) in triples.enumerated() {
                // Objects in a random order among the regions.
                var slots = Array(0..<regions)
                for s in stride(from: slots.count - 1, to: 0, by: -1) { slots.swapAt(s, Int(rng.next() % UInt64(s + 1))) }
                for r in 0..<regions {
                    let object = slots.firstIndex(of: r).flatMap { $0 < objectsPerImage ? t[$0] : nil }
                    let scale: Float = 0.8 + 0.4 * rng.uniform()
                    for k in 0..<imgDim {
                        feats[i, r, k] = (object.map { prototypes[$0][k] * scale } ?? 0) + noise * rng.uniform()
                    }
                }
                if objectsPerImage == 3 && mentioned == nil {
                    caps += captions(t.map { nouns[$0] }, &rng)
                } else {
                    caps += (0..<5).map { template in
                        let m = mentioned.map { $0.lowerBound + Int(rng.next() % UInt64($0.count)) } ?? objectsPerImage
                        var o = t.map { nouns[$0] }
                        for s in stride(from: o.count - 1, to: 0, by: -1) { o.swapAt(s, Int(rng.next() % UInt64(s + 1))) }
                        return caption(Array(o.prefix(max(1, min(m, o.count)))), template: template)
                    }
                }
            }
            try NPY.write(feats, to: "\(folder)/\(name)_ims.npy")
            try (caps.joined(separator: "\n") + "\n").write(toFile: "\(folder)/\(name)_caps.txt", atomically: true, encoding: .utf8)
        }
        let files = splits.map(\.name).filter { $0 == "train" || $0 == "dev" }.map { "\(folder)/\($0)_caps.txt" }
        try VocabularyBuilder.build(captionFiles: files, threshold: 1).write(to: "\(folder)/vocab.json")
    }

    private func captions(_ w: [String], _ rng: inout Generator) -> [String] {
        var o = w
        for s in stride(from: 2, to: 0, by: -1) { o.swapAt(s, Int(rng.next() % UInt64(s + 1))) }
        return ["a \(w[0]) , a \(w[1]) and a \(w[2]) .",
                "\(o[0]) with \(o[1]) near \(o[2])",
                "there is a \(o[2]) next to a \(o[0]) and a \(o[1]) .",
                "the \(w[2]) , the \(w[0]) and the \(w[1])",
                "\(o[1]) and \(o[2]) and \(o[0]) together ."]
    }

    /// One caption naming `w` (in that order) in one of five phrasings.
    private func caption(_ w: [String], template: Int) -> String {
        func list(_ a: String, _ sep: String, _ last: String) -> String {
            w.count == 1 ? a + w[0] : w.dropLast().map { a + $0 }.joined(separator: sep) + last + a + w.last!
        }
        switch template {
        case 0: return list("a ", " , ", " and ") + " ."
        case 1: return w.count == 1 ? w[0] : w.dropLast().joined(separator: " with ") + " near " + w.last!
        case 2: return "there is a \(w[0])" + (w.count > 1 ? " next to " + Array(w.dropFirst()).map { "a " + $0 }.joined(separator: " and ") : "") + " ."
        case 3: return list("the ", " , ", " and ")
        default: return w.joined(separator: " and ") + " together ."
        }
    }

    /// The (caption, image id) pairs of a split as indexed from its precomp files without an ids file
    /// (image i has id "i", its captions are lines 5i ..< 5i + 5).
    public static func queries(folder: String, split: String) throws -> [(caption: String, imageID: String)] {
        let lines = try CaptionFile.read(PrecompLayout.captionsPath(folder: folder, split: split)).filter { !$0.isEmpty }
        return lines.enumerated().map { ($1, String($0 / 5)) }
    }

    typealias Generator = SplitMix64
}
