import Foundation
import SCANSearch
import TestSupport
import XCTest

/// `scan-index build/add --model CHECKPOINT`: the index holds the converted model directory, the
/// same files (same fingerprint) as `scan-model convert` writes, so both name the same model.
final class CheckpointIndexTests: XCTestCase {
    func testBuildAndAddWithAnOriginalCheckpoint() throws {
        let tmp = makeTempDir(self, "scan-ckpt-index")
        let data = tmp + "/data/tiny_precomp"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tmp + "/vocab", withIntermediateDirectories: true)
        try Vocabulary(words: (0..<36).map { "word\($0)" }).write(to: tmp + "/vocab/tiny_precomp_vocab.json")
        var rng = SplitMix64(seed: 5)
        let images = Tensor(shape: [12, 7, 24], data: (0..<(12 * 7 * 24)).map { _ in Float(rng.next() % 1000) / 1000 })
        try NPY.write(images, to: data + "/test_ims.npy")
        try NPY.write(Tensor(shape: [3, 7, 24], data: Array(images.data.prefix(3 * 7 * 24))), to: data + "/more_ims.npy")
        let checkpoint = ReferenceFixtures.directory.appendingPathComponent("checkpoint_tiny_legacy.pth.tar").path

        let converted = tmp + "/model"
        let conv = try ToolRunner.run("scan-model", ["convert", checkpoint, "--vocab", tmp + "/vocab/tiny_precomp_vocab.json", "--out", converted], in: tmp)
        XCTAssertEqual(conv.status, 0, conv.stderr)

        // The vocabulary is found beside the features' data folder (vocab/tiny_precomp_vocab.json).
        let index = tmp + "/index"
        let build = try ToolRunner.run("scan-index", ["build", "--model", checkpoint, "--features", data + "/test_ims.npy", "--index", index, "--no-captions"], in: tmp)
        XCTAssertEqual(build.status, 0, build.stderr)
        let info = try IndexInfo(index: index)
        XCTAssertEqual(info.manifest.modelFingerprint, try ModelDirectory(path: converted).fingerprint())
        XCTAssertEqual(info.manifest.modelName, "checkpoint_tiny_legacy")
        let verify = try ToolRunner.run("scan-index", ["verify", "--index", index], in: tmp)
        XCTAssertEqual(verify.status, 0, verify.stdout)

        // add --model accepts the checkpoint (it is the index's model) and the converted directory.
        for model in [checkpoint, converted] {
            let add = try ToolRunner.run("scan-index", ["add", "--index", index, "--features", data + "/more_ims.npy", "--model", model,
                                                        "--vocab", tmp + "/vocab/tiny_precomp_vocab.json", "--no-captions"], in: tmp)
            XCTAssertEqual(add.status, 0, add.stderr)
        }
        // Without a vocabulary anywhere the build is refused, naming where it looked; no index appears.
        try FileManager.default.removeItem(atPath: tmp + "/vocab")
        let refused = try ToolRunner.run("scan-index", ["build", "--model", checkpoint, "--features", data + "/test_ims.npy", "--index", tmp + "/index2"], in: tmp)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("vocab/tiny_precomp_vocab.json") && refused.stderr.contains("--vocab"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/index2"))
    }
}
