import Foundation
import SCANTraining
import TestSupport
import XCTest

/// The built scan-eval, scan-vocab and scan-train binaries, run as a user would.
final class CommandLineTests: XCTestCase {
    var tmp: String!

    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "scan-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        _ = try ToolRunner.path("scan-eval")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    func testScanEvalPrintsTheOriginalsLinesAndWritesJSONAndSims() throws {
        let cases = try ReferenceFixtures.cases(kinds: ["evalrank"])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let modelDir = tmp + "/model", data = tmp + "/data/tiny_precomp"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let vocab = try Vocabulary(contentsOf: c.directory.appendingPathComponent(c.json["vocab_file"]!.string!).path)
            try ModelDirectory.save(config: try c.config(), parameters: try c.parameters(), vocabulary: vocab, to: modelDir)
            try NPY.write(try c.tensors.tensor("images"), to: data + "/test_ims.npy")
            try FileManager.default.copyItem(atPath: c.directory.appendingPathComponent(c.json["captions_file"]!.string!).path, toPath: data + "/test_caps.txt")
            // The original's root + --data_name form.
            let r = try ToolRunner.run("scan-eval", ["--model", modelDir, "--data_path", tmp + "/data", "--data_name", "tiny_precomp",
                                                   "--split", "test", "--json", tmp + "/m.json", "--save-sims", tmp + "/s.npy"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, c.json["expected_lines"]!.array!.map { $0.string! + "\n" }.joined())
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/m.json"))) as! [String: Any]
            let metrics = json["metrics"] as! [String: Any]
            let captionCount = try CaptionFile.read(data + "/test_caps.txt").count
            let ranks = try XCTUnwrap((metrics["t2i"] as? [String: Any])?["ranks"] as? [Int], "metrics.t2i.ranks")
            XCTAssertEqual(ranks.count, captionCount)
            XCTAssertEqual(try NPYArray(path: tmp + "/s.npy").shape, [captionCount / 5, captionCount])
            // float64 gives the same lines.
            let r64 = try ToolRunner.run("scan-eval", ["--model", modelDir, "--data_path", data, "--precision", "float64"])
            XCTAssertEqual(r64.stdout, r.stdout, r64.stderr)
            // --fold5 on 20 images says what it did instead.
            let f5 = try ToolRunner.run("scan-eval", ["--model", modelDir, "--data_path", data, "--fold5"])
            XCTAssertEqual(f5.status, 0, f5.stderr)
            XCTAssertTrue(f5.stderr.contains("note: --fold5: 20 images, not COCO's 5000: evaluated five folds of 4 images"), f5.stderr)
        }
    }

    func testScanEvalErrorsAreClearAndNonZero() throws {
        let r = try ToolRunner.run("scan-eval", ["--model", tmp + "/nope", "--data_path", tmp])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains(tmp + "/nope") && r.stderr.contains("no such file"), r.stderr)
        let bad = try ToolRunner.run("scan-eval", ["--model", "m", "--data_path", "d", "--precision", "float16"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("'float16' is invalid for '--precision") && bad.stderr.contains("float64"), bad.stderr)
        let missing = try ToolRunner.run("scan-eval", [])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("Missing expected argument '--model <model>'"), missing.stderr)
    }

    func testScanTrainAcceptsTheOriginalFlagsAndRefusesTwoLayers() throws {
        let help = try ToolRunner.run("scan-train", ["--help"])
        XCTAssertEqual(help.status, 0)
        for flag in ["--data_path", "--data_name", "--vocab_path", "--logger_name", "--model_name", "--margin", "--num_epochs",
                     "--batch_size", "--word_dim", "--embed_size", "--grad_clip", "--num_layers", "--learning_rate", "--lr_update",
                     "--workers", "--log_step", "--val_step", "--resume", "--max_violation", "--img_dim", "--no_imgnorm", "--no_txtnorm",
                     "--raw_feature_norm", "--agg_func", "--cross_attn", "--precomp_enc_type", "--bi_gru", "--lambda_lse", "--lambda_softmax"] {
            XCTAssertTrue(help.stdout.contains(flag), flag)
        }
        let r = try ToolRunner.run("scan-train", ["--num_layers", "2", "--data_path", tmp])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("num_layers") && r.stderr.contains("not supported"), r.stderr)
        let bad = try ToolRunner.run("scan-train", ["--agg_func=Median", "--data_path", tmp])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("agg_func") && bad.stderr.contains("Median"), bad.stderr)
    }
}
