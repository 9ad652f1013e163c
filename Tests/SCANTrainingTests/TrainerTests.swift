import Foundation
import SCANTraining
import TestSupport
import XCTest

/// The training loop on a small generated precomp folder: the loss falls, validation improves,
/// and a resumed run continues with exactly the losses of an uninterrupted one.
final class TrainerTests: XCTestCase {
    var tmp: String!

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "scan-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp + "/data", withIntermediateDirectories: true)
        setenv("SCAN_QUIET", "1", 1)
        try writeWorld(at: tmp + "/data")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    /// Images of one of 8 concepts (4 regions, one carrying the concept's prototype), captions naming it.
    func writeWorld(at dir: String) throws {
        var rng = TestRNG(seed: 99)
        let words = ["dog", "cat", "boat", "horse", "car", "kite", "bird", "ball"]
        let dim = 12
        let prototypes = (0..<words.count).map { _ in (0..<dim).map { _ in rng.uniform() < 0.3 ? rng.uniform(0.5, 2) : 0 } }
        var lines: [String] = []
        for (split, n) in [("train", 48), ("dev", 16)] {
            var feats = Tensor(zeros: [n, 4, dim])
            var caps: [String] = []
            for i in 0..<n {
                let c = (i * 5 + 3) % words.count
                for r in 0..<4 {
                    for k in 0..<dim {
                        feats[i, r, k] = (r == 0 ? prototypes[c][k] : 0) + rng.uniform(0, 0.2)
                    }
                }
                for t in 0..<5 { caps.append(["a \(words[c]) .", "the \(words[c]) is here .", "one \(words[c])", "a small \(words[c]) outside .", "\(words[c])"][t]) }
            }
            try NPY.write(feats, to: "\(dir)/\(split)_ims.npy")
            try (caps.joined(separator: "\n") + "\n").write(toFile: "\(dir)/\(split)_caps.txt", atomically: true, encoding: .utf8)
            lines += caps
        }
        let vocab = try VocabularyBuilder.build(captionFiles: ["\(dir)/train_caps.txt", "\(dir)/dev_caps.txt"], threshold: 1)
        try vocab.write(to: "\(dir)/vocab.json")
    }

    func options(epochs: Int, run: String, resume: String = "") -> TrainingOptions {
        var o = TrainingOptions()
        o.config.embedSize = 16; o.config.wordDim = 8; o.config.imgDim = 12; o.config.biGRU = true
        o.config.maxViolation = false; o.config.numEpochs = epochs; o.config.batchSize = 16; o.config.learningRate = 0.005
        o.dataPath = tmp + "/data"; o.dataName = ""; o.vocabPath = tmp + "/data/vocab.json"
        o.loggerName = tmp + "/\(run)/log"; o.modelName = tmp + "/\(run)/checkpoint"
        o.logStep = 1; o.valStep = 0; o.seed = 3; o.quiet = true; o.resume = resume
        return o
    }

    func testLossFallsAndValidationImproves() throws {
        let summary = try Trainer(options: options(epochs: 6, run: "a")).run()
        XCTAssertEqual(summary.epochsDone, 6)
        let perEpoch = summary.losses.count / 6
        let first = summary.losses.prefix(perEpoch).reduce(0, +), last = summary.losses.suffix(perEpoch).reduce(0, +)
        XCTAssertLessThan(last, 0.8 * first, "losses \(summary.losses)")
        XCTAssertGreaterThan(summary.rsums.last!, summary.rsums.first!, "rsums \(summary.rsums)")
        // Checkpoints: one per epoch, model_best loadable as a model directory, a JSON-lines log.
        XCTAssertNoThrow(try ModelDirectory(path: tmp + "/a/checkpoint/model_best").load())
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/a/checkpoint/checkpoint_5/optimizer.safetensors"))
        let log = try String(contentsOfFile: tmp + "/a/log/train_log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(log.count, summary.losses.count)
    }

    func testResumeContinuesWithTheSameLosses() throws {
        let full = try Trainer(options: options(epochs: 2, run: "full")).run()
        _ = try Trainer(options: options(epochs: 1, run: "part")).run()
        let resumed = try Trainer(options: options(epochs: 2, run: "part", resume: tmp + "/part/checkpoint")).run()
        let perEpoch = full.losses.count / 2
        XCTAssertEqual(resumed.losses.count, perEpoch)
        for (a, b) in zip(resumed.losses, full.losses.suffix(perEpoch)) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        XCTAssertEqual(resumed.iterations, full.iterations)
    }

    func testResumeFromAnotherConfigurationIsRefused() throws {
        _ = try Trainer(options: options(epochs: 1, run: "c")).run()
        var o = options(epochs: 2, run: "c", resume: tmp + "/c/checkpoint")
        o.config.aggFunc = .mean
        XCTAssertThrowsError(try Trainer(options: o).run()) { err in
            XCTAssertTrue("\(err)".contains("agg_func"), "\(err)")
        }
    }

    func testVocabularyOfOtherCaptionsIsRefused() throws {
        let other = try Vocabulary(words: ["zebra", "giraffe"])
        try other.write(to: tmp + "/data/vocab.json")
        XCTAssertThrowsError(try Trainer(options: options(epochs: 1, run: "v"))) { err in
            XCTAssertTrue("\(err)".contains("unknown"), "\(err)")
        }
    }

    func testNonFiniteLossStopsAndNamesTheIteration() throws {
        var o = options(epochs: 3, run: "nan")
        // Finite but enormous features overflow the unnormalised image embedding.
        var feats = try NPY.read(tmp + "/data/train_ims.npy")
        for k in 0..<feats.rowStride { feats.data[k] = 3e38 }
        try NPY.write(feats, to: tmp + "/data/train_ims.npy")
        o.config.noImgnorm = true
        XCTAssertThrowsError(try Trainer(options: o).run()) { err in
            guard case let TrainingError.nonFiniteLoss(iteration, _, last) = err else { return XCTFail("\(err)") }
            XCTAssertGreaterThanOrEqual(iteration, 1)
            XCTAssertNil(last)
            XCTAssertTrue("\(err)".contains("iteration \(iteration)"), "\(err)")
        }
    }

    func testMissingSplitFilesAreNamed() throws {
        try FileManager.default.removeItem(atPath: tmp + "/data/dev_caps.txt")
        XCTAssertThrowsError(try Trainer(options: options(epochs: 1, run: "m"))) { err in
            XCTAssertTrue("\(err)".contains("dev_caps.txt"), "\(err)")
        }
    }
}
