import Foundation
import SCANTraining
import TestSupport
import XCTest

/// The whole evaluation (the original's evalrank) on a precomp folder the test writes from the
/// reference fixtures, and its input checks.
final class EvaluationTests: XCTestCase {
    var tmp: String!

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "scan-eval-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        setenv("SCAN_QUIET", "1", 1)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    /// Writes the case's model directory and precomp folder; returns (model dir, data folder).
    func materialize(_ c: ReferenceCase) throws -> (String, String) {
        let modelDir = tmp + "/model-\(c.name)", data = tmp + "/data-\(c.name)"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let vocab = try Vocabulary(contentsOf: c.directory.appendingPathComponent(c.json["vocab_file"]!.string!).path)
        try ModelDirectory.save(config: try c.config(), parameters: try c.parameters(), vocabulary: vocab, to: modelDir)
        try NPY.write(try c.tensors.tensor("images"), to: data + "/test_ims.npy")
        try FileManager.default.copyItem(atPath: c.directory.appendingPathComponent(c.json["captions_file"]!.string!).path,
                                         toPath: data + "/test_caps.txt")
        return (modelDir, data)
    }

    func evalrankCases() throws -> [ReferenceCase] {
        let cases = try ReferenceFixtures.cases(kinds: ["evalrank"])
        XCTAssertFalse(cases.isEmpty, "no evalrank case in \(ReferenceFixtures.directory.path)")
        return cases
    }

    func testEvalrankPrintsTheOriginalLines() throws {
        for c in try evalrankCases() {
            let (modelDir, data) = try materialize(c)
            let (model, vocab) = try ModelDirectory(path: modelDir).load()
            for precision in ScorePrecision.allCases {
                var options = Evaluation.Options()
                options.precision = precision
                options.quiet = true
                let outcome = try Evaluation.run([Evaluator(model: model, vocabulary: vocab)], folder: data, options: options)
                XCTAssertEqual(outcome.lines, c.json["expected_lines"]!.array!.map { $0.string! }, "\(c.name) \(precision)")
                // The matrix itself: within half the smallest rank margin of the original's.
                let ref = try c.tensors.doubles("sims")
                let margin = min(c.json["rank_margins"]!["i2t"]!.number!, c.json["rank_margins"]!["t2i"]!.number!)
                XCTAssertLessThan(Tolerance.maxAbsDiff(outcome.sims, ref), margin / 2, "\(c.name) \(precision) sims")
            }
        }
    }

    func testEnsembleOfAModelWithItselfGivesTheSameLines() throws {
        for c in try evalrankCases() {
            let (modelDir, data) = try materialize(c)
            let (model, vocab) = try ModelDirectory(path: modelDir).load()
            let e = Evaluator(model: model, vocabulary: vocab)
            var options = Evaluation.Options()
            options.quiet = true
            let single = try Evaluation.run([e], folder: data, options: options)
            let pair = try Evaluation.run([e, e], folder: data, options: options)
            XCTAssertEqual(single.lines, pair.lines)
            XCTAssertLessThan(Tolerance.maxAbsDiff(single.sims, pair.sims), 1e-12)
            // Five folds: each fold's block is a diagonal block of the full matrix (images x captions).
            let captionCount = try CaptionFile.read(data + "/test_caps.txt").count
            let imageCount = captionCount / 5
            guard imageCount % 5 == 0, imageCount > 0 else {
                print("note: \(c.name): \(imageCount) images do not make 5 equal folds; the fold-5 check needs that and was not run for this case")
                continue
            }
            options.fold5 = true
            let folds = try Evaluation.run([e], folder: data, options: options)
            XCTAssertEqual(folds.reports.count, 5)
            // Not COCO's 5000 images: said, with the fold size actually used.
            XCTAssertEqual(single.notes, [])
            XCTAssertEqual(folds.notes.count, 1)
            XCTAssertTrue(folds.notes[0].contains("20 images, not COCO's 5000") && folds.notes[0].contains("five folds of 4 images"), "\(folds.notes)")
            XCTAssertEqual((folds.json["notes"] as? [String]) ?? [], folds.notes)
            XCTAssertEqual(folds.lines.count, 5 * 3 + 2 + 5)
            XCTAssertEqual(folds.lines[15], "-----------------------------------")
            let foldImages = imageCount / 5, foldCaptions = captionCount / 5
            XCTAssertEqual(folds.sims.count, 5 * foldImages * foldCaptions)
            for f in 0..<5 {
                for i in 0..<foldImages {
                    for j in 0..<foldCaptions {
                        XCTAssertEqual(folds.sims[(f * foldImages + i) * foldCaptions + j],
                                       single.sims[(f * foldImages + i) * captionCount + f * foldCaptions + j], accuracy: 1e-6)
                    }
                }
            }
            // The mean lines are the means of the folds (rsum included: the original printed it wrong).
            let meanRsum = folds.reports.map(\.rsum).reduce(0, +) / 5
            XCTAssertEqual(folds.lines[17], String(format: "rsum: %.1f", meanRsum))
        }
    }

    func testBadInputIsRefusedBeforeAnyWork() throws {
        let c = try evalrankCases()[0]
        let (modelDir, data) = try materialize(c)
        let (model, vocab) = try ModelDirectory(path: modelDir).load()
        let e = Evaluator(model: model, vocabulary: vocab)
        var options = Evaluation.Options()
        options.quiet = true
        // Missing split files.
        options.split = "dev"
        XCTAssertThrowsError(try Evaluation.run([e], folder: data, options: options)) { err in
            XCTAssertTrue("\(err)".contains("dev_ims.npy"), "\(err)")
        }
        options.split = "test"
        // One caption fewer: neither 1:1 nor 1:5.
        let caps = try String(contentsOfFile: data + "/test_caps.txt", encoding: .utf8).split(separator: "\n")
        try (caps.dropLast().joined(separator: "\n") + "\n").write(toFile: data + "/test_caps.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Evaluation.run([e], folder: data, options: options)) { err in
            XCTAssertTrue("\(err)".contains("\(caps.count - 1) captions"), "\(err)")
        }
        try (caps.joined(separator: "\n") + "\n").write(toFile: data + "/test_caps.txt", atomically: true, encoding: .utf8)
        // Features whose dimension differs from the model's img_dim.
        let images = try c.tensors.tensor("images")
        try NPY.write(Tensor(zeros: [images.shape[0], images.shape[1], images.shape[2] + 1]), to: data + "/test_ims.npy")
        XCTAssertThrowsError(try Evaluation.run([e], folder: data, options: options)) { err in
            XCTAssertTrue("\(err)".contains("img_dim"), "\(err)")
        }
        // NaN features.
        var bad = images
        bad.data[3 * images.rowStride + 5] = .nan
        try NPY.write(bad, to: data + "/test_ims.npy")
        XCTAssertThrowsError(try Evaluation.run([e], folder: data, options: options)) { err in
            XCTAssertTrue("\(err)".contains("image 3"), "\(err)")
        }
    }
}
