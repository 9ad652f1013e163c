import Foundation
import SCANTraining
import TestSupport
import XCTest

/// The tools on original checkpoints (the reference folder's checkpoint case, written by the original code):
/// `scan-model convert`, `scan-eval --model CHECKPOINT` printing what it prints for the converted
/// directory, and `scan-index build/add --model CHECKPOINT`, with the vocabulary from --vocab or the
/// original's layout.
final class CheckpointToolTests: XCTestCase {
    var tmp: String!
    /// The checkpoint case of the reference folder: its files (one per torch layout, the same
    /// weights), its weights as safetensors, and the original's options (data_name, img_dim).
    var checkpointCase: ReferenceCase!
    var checkpoints: [String]!
    var dataName: String!
    var imgDim: Int!

    override func setUpWithError() throws {
        tmp = makeTempDir(self, "scan-ckpt-cli")
        for tool in ["scan-eval", "scan-model", "scan-index"] { _ = try ToolRunner.path(tool) }
        checkpointCase = try XCTUnwrap(try ReferenceFixtures.cases(kinds: ["checkpoint"]).first, "no checkpoint case in the reference folder")
        let files = try XCTUnwrap(checkpointCase.json["files"]?.array?.compactMap(\.string), "the checkpoint case names no files")
        XCTAssertFalse(files.isEmpty)
        checkpoints = files.map { ReferenceFixtures.directory.appendingPathComponent($0).path }
        dataName = try XCTUnwrap(checkpointCase.json["opt_namespace"]?["data_name"]?.string, "opt_namespace.data_name")
        imgDim = Int(try XCTUnwrap(checkpointCase.json["opt_namespace"]?["img_dim"]?.number, "opt_namespace.img_dim"))
    }

    /// The original's layout: data/{data_name}/test_{ims.npy,caps.txt} and vocab/{data_name}_vocab.json
    /// (data_name from the checkpoint's opt). Real captions and features of the evalrank
    /// fixture; the 40-word vocabulary is their 36 most frequent words.
    func makeOriginalLayout() throws -> (data: String, vocab: String) {
        let c = try XCTUnwrap(try ReferenceFixtures.cases(kinds: ["evalrank"]).first, "no evalrank case in the reference folder")
        let data = tmp + "/data/" + dataName, vocabDir = tmp + "/vocab"
        for d in [data, vocabDir] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try NPY.write(try c.tensors.tensor("images"), to: data + "/test_ims.npy")
        let caps = try String(contentsOf: c.directory.appendingPathComponent(c.json["captions_file"]!.string!), encoding: .utf8)
        try caps.write(toFile: data + "/test_caps.txt", atomically: true, encoding: .utf8)
        var counts: [String: Int] = [:]
        for line in caps.split(separator: "\n") {
            for token in Tokenizer().tokenize(String(line)) { counts[token, default: 0] += 1 }
        }
        let words = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(36).map(\.key)
        let vocab = vocabDir + "/\(dataName!)_vocab.json"
        try Vocabulary(words: words).write(to: vocab)
        return (tmp + "/data", vocab)
    }

    func testScanEvalOnACheckpointPrintsTheConvertedDirectorysLines() throws {
        let (data, vocab) = try makeOriginalLayout()
        let model = tmp + "/model"
        let conv = try ToolRunner.run("scan-model", ["convert", checkpoints[0], "--vocab", vocab, "--out", model])
        XCTAssertEqual(conv.status, 0, conv.stderr)
        let tensors = checkpointCase.tensors.entries.values
        let parameters = tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let words = try Vocabulary(contentsOf: vocab).count
        XCTAssertTrue(conv.stdout.hasPrefix("wrote \(model): \(tensors.count) tensors, \(parameters) parameters, \(words) words"), conv.stdout)
        let reference = try ToolRunner.run("scan-eval", ["--model", model, "--data_path", data, "--data_name", dataName])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertEqual(reference.stdout.split(separator: "\n").count, 5, reference.stdout)
        XCTAssertTrue(reference.stdout.hasPrefix("rsum: "), reference.stdout)
        for ckpt in checkpoints {
            // Vocabulary found in the original layout (vocab/ beside data/), then given explicitly
            // with the split folder as --data_path.
            let a = try ToolRunner.run("scan-eval", ["--model", ckpt, "--data_path", data, "--data_name", dataName])
            XCTAssertEqual(a.status, 0, a.stderr)
            XCTAssertEqual(a.stdout, reference.stdout, ckpt)
            let b = try ToolRunner.run("scan-eval", ["--model", ckpt, "--vocab", vocab, "--data_path", data + "/" + dataName, "--precision", "float64"])
            XCTAssertEqual(b.status, 0, b.stderr)
            XCTAssertEqual(b.stdout, reference.stdout, ckpt)
            // The converted directories of both layouts are identical.
            let other = tmp + "/model-" + (ckpt as NSString).lastPathComponent
            XCTAssertEqual(try ToolRunner.run("scan-model", ["convert", ckpt, "--vocab", tmp + "/vocab", "--out", other]).status, 0)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other + "/config.json")), try Data(contentsOf: URL(fileURLWithPath: model + "/config.json")))
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other + "/vocab.json")), try Data(contentsOf: URL(fileURLWithPath: vocab)))
        }
    }

    func testMissingVocabularyNamesWhereItLooked() throws {
        let (data, _) = try makeOriginalLayout()
        try FileManager.default.removeItem(atPath: tmp + "/vocab")
        let r = try ToolRunner.run("scan-eval", ["--model", checkpoints[1], "--data_path", data, "--data_name", dataName])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("\(data)/../vocab/\(dataName!)_vocab.json"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(data)/vocab/\(dataName!)_vocab.json"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--vocab"), r.stderr)
        XCTAssertEqual(r.stdout, "")
    }

    func testConvertRefusesBadInputWithoutLeavingAFolder() throws {
        let (_, vocab) = try makeOriginalLayout()
        let out = tmp + "/m"
        let missing = try ToolRunner.run("scan-model", ["convert", tmp + "/nowhere.pth.tar", "--vocab", vocab, "--out", out])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nowhere.pth.tar"), missing.stderr)
        // A vocabulary of another size.
        let short = tmp + "/short_vocab.json"
        try Vocabulary(words: (0..<35).map { "w\($0)" }).write(to: short)
        let wrong = try ToolRunner.run("scan-model", ["convert", checkpoints[0], "--vocab", short, "--out", out])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("39 words") && wrong.stderr.contains("40 rows"), wrong.stderr)
        // Not a checkpoint.
        try "this is not a checkpoint\n".write(toFile: tmp + "/notes.pth.tar", atomically: true, encoding: .utf8)
        let text = try ToolRunner.run("scan-model", ["convert", tmp + "/notes.pth.tar", "--vocab", vocab, "--out", out])
        XCTAssertNotEqual(text.status, 0)
        XCTAssertTrue(text.stderr.contains("not a PyTorch checkpoint"), text.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // An existing non-empty folder needs --force and is left alone without it.
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "keep".write(toFile: out + "/note.txt", atomically: true, encoding: .utf8)
        let busy = try ToolRunner.run("scan-model", ["convert", checkpoints[0], "--vocab", vocab, "--out", out])
        XCTAssertNotEqual(busy.status, 0)
        XCTAssertTrue(busy.stderr.contains("--force"), busy.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/note.txt"))
        let forced = try ToolRunner.run("scan-model", ["convert", checkpoints[0], "--vocab", vocab, "--out", out, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["config.json", "model.safetensors", "vocab.json"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp).filter { $0.hasPrefix(".") }, [], "temporary folders left behind")
        // scan-prefilter writes into a model directory: a checkpoint is refused with the way out.
        let pf = try ToolRunner.run("scan-prefilter", ["fit", "--model", checkpoints[0], "--data_path", tmp + "/data"])
        XCTAssertNotEqual(pf.status, 0)
        XCTAssertTrue(pf.stderr.contains("scan-model convert"), pf.stderr)
    }

    /// `scan-index build/add --model CHECKPOINT`: the index holds the converted model directory, the
    /// same files (same fingerprint) as `scan-model convert` writes, so both name the same model.
    func testBuildAndAddWithAnOriginalCheckpoint() throws {
        let tmp: String = self.tmp
        let data = tmp + "/data/" + dataName
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tmp + "/vocab", withIntermediateDirectories: true)
        try Vocabulary(words: (0..<36).map { "word\($0)" }).write(to: tmp + "/vocab/\(dataName!)_vocab.json")
        var rng = SplitMix64(seed: 5)
        let images = Tensor(shape: [12, 7, imgDim], data: (0..<(12 * 7 * imgDim)).map { _ in Float(rng.next() % 1000) / 1000 })
        try NPY.write(images, to: data + "/test_ims.npy")
        try NPY.write(Tensor(shape: [3, 7, imgDim], data: Array(images.data.prefix(3 * 7 * imgDim))), to: data + "/more_ims.npy")
        let checkpoint: String = checkpoints[0]

        let converted = tmp + "/model"
        let conv = try ToolRunner.run("scan-model", ["convert", checkpoint, "--vocab", tmp + "/vocab/\(dataName!)_vocab.json", "--out", converted])
        XCTAssertEqual(conv.status, 0, conv.stderr)

        // The vocabulary is found beside the features' data folder (vocab/\(dataName!)_vocab.json).
        let index = tmp + "/index"
        let build = try ToolRunner.run("scan-index", ["build", "--model", checkpoint, "--features", data + "/test_ims.npy", "--index", index, "--no-captions"])
        XCTAssertEqual(build.status, 0, build.stderr)
        let info = try ToolRunner.run("scan-index", ["info", "--index", index, "--json"])
        XCTAssertEqual(info.status, 0, info.stderr)
        let manifest = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(manifest?["model_fingerprint"] as? String, try ModelDirectory(path: converted).fingerprint())
        XCTAssertEqual(manifest?["model_name"] as? String, ((checkpoint as NSString).lastPathComponent as NSString).deletingPathExtension.replacingOccurrences(of: ".pth", with: ""))
        let verify = try ToolRunner.run("scan-index", ["verify", "--index", index])
        XCTAssertEqual(verify.status, 0, verify.stdout)

        // add --model accepts the checkpoint (it is the index's model) and the converted directory; the
        // second file gets its own ids (row numbers would collide with the first file's).
        let moreCount = try NPYArray(path: data + "/more_ims.npy").shape[0]
        try ((0..<moreCount).map { "more-\($0)" }.joined(separator: "\n") + "\n").write(toFile: tmp + "/more_ids.txt", atomically: true, encoding: .utf8)
        for model in [checkpoint, converted] {
            let add = try ToolRunner.run("scan-index", ["add", "--index", index, "--features", data + "/more_ims.npy", "--model", model,
                                                        "--vocab", tmp + "/vocab/\(dataName!)_vocab.json", "--no-captions",
                                                        "--ids", tmp + "/more_ids.txt"])
            XCTAssertEqual(add.status, 0, add.stderr)
        }
        // Without a vocabulary anywhere the build is refused, naming where it looked; no index appears.
        try FileManager.default.removeItem(atPath: tmp + "/vocab")
        let refused = try ToolRunner.run("scan-index", ["build", "--model", checkpoint, "--features", data + "/test_ims.npy", "--index", tmp + "/index2"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("vocab/\(dataName!)_vocab.json") && refused.stderr.contains("--vocab"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp + "/index2"))
    }

    /// An original checkpoint, searched: `scan-search --exact` over an index built with `--model
    /// CHECKPOINT` ranks every caption's images as `scan-eval --model CHECKPOINT` does (its similarity
    /// matrix, --save-sims). float32 regions: the same order, scores (1e-5) and t2i recall line.
    /// float16 regions: scores within float16 storage's deviation (2e-3), so two images closer than
    /// that may trade places (and with them, on this 16-dim model, a recall point), never more.
    func testExactSearchOnACheckpointEqualsScanEvalsT2IRanking() throws {
        _ = try ToolRunner.path("scan-search")
        let (data, _) = try makeOriginalLayout()
        let sims = tmp + "/sims.npy"
        let eval = try ToolRunner.run("scan-eval", ["--model", checkpoints[0], "--data_path", data, "--data_name", dataName, "--save-sims", sims])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let t2iLine = try XCTUnwrap(eval.stdout.split(separator: "\n").first { $0.hasPrefix("Text to image:") }, eval.stdout)
        let matrix = try NPYArray(path: sims)
        let values = matrix.floats()
        let split = data + "/" + dataName
        let captions = try String(contentsOfFile: split + "/test_caps.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(matrix.shape.count, 2)
        XCTAssertEqual(matrix.shape.last, captions.count, "scan-eval's matrix: images x captions")
        let images = matrix.shape[0]
        XCTAssertEqual(captions.count % images, 0, "\(captions.count) captions for \(images) images")
        let perImage = captions.count / images
        for (precision, tolerance) in [("float32", Float(1e-5)), ("float16", Float(2e-3))] {
            let index = tmp + "/index-" + precision
            let build = try ToolRunner.run("scan-index", ["build", "--model", checkpoints[0], "--features", split + "/test_ims.npy",
                                                          "--captions", split + "/test_caps.txt", "--index", index, "--precision", precision])
            XCTAssertEqual(build.status, 0, build.stderr)
            let search = try ToolRunner.run("scan-search", ["-", "--index", index, "--exact", "--json", "--top", "\(images)"],
                                            stdin: captions.joined(separator: "\n") + "\n")
            XCTAssertEqual(search.status, 0, search.stderr)
            let lines = search.stdout.split(separator: "\n")
            XCTAssertEqual(lines.count, captions.count)
            var ranksOfTruth: [Int] = [], swaps = 0, nearTieMoves = 0
            for (j, line) in lines.enumerated() {
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let results = try XCTUnwrap(object["results"] as? [[String: Any]], String(line))
                let got = results.compactMap { ($0["id"] as? String).flatMap(Int.init) }
                let scores = results.compactMap { ($0["score"] as? NSNumber)?.floatValue }
                XCTAssertEqual(Set(got), Set(0..<images), "caption \(j): every image once")
                let column = (0..<images).map { values[$0 * captions.count + j] }
                let expected = (0..<images).sorted { column[$0] != column[$1] ? column[$0] > column[$1] : $0 < $1 }
                for (i, s) in zip(got, scores) where i < images { XCTAssertEqual(s, column[i], accuracy: tolerance, "\(precision), caption \(j), image \(i)") }
                if precision == "float32" {
                    XCTAssertEqual(got, expected, "caption \(j): \(captions[j])")
                } else {
                    // Out of scan-eval's order only where the true scores are closer than the storage's deviation.
                    for k in 0..<(got.count - 1) where got[k] < images && got[k + 1] < images {
                        XCTAssertGreaterThan(column[got[k]], column[got[k + 1]] - 2 * tolerance, "\(precision), caption \(j), ranks \(k), \(k + 1)")
                    }
                    swaps += zip(got, expected).filter { $0 != $1 }.count
                }
                let rank = got.firstIndex(of: j / perImage) ?? images, expectedRank = expected.firstIndex(of: j / perImage) ?? images
                if rank != expectedRank, rank < images {
                    XCTAssertLessThan(abs(column[j / perImage] - column[expected[rank]]), 2 * tolerance, "\(precision), caption \(j): the true image moved past a clear gap")
                    nearTieMoves += 1
                }
                ranksOfTruth.append(rank)
            }
            func recall(_ k: Int) -> Double { 100 * Double(ranksOfTruth.filter { $0 < k }.count) / Double(ranksOfTruth.count) }
            let line = String(format: "Text to image: %.1f %.1f %.1f", recall(1), recall(5), recall(10))
            if precision == "float32" {
                XCTAssertTrue(t2iLine.hasPrefix(line), "\(precision): search gives \(line), scan-eval printed \(t2iLine)")
            } else {
                print("float16 exact search: \(swaps) of \(captions.count * images) ranks differ from scan-eval's order, all near ties; " +
                      "the true image moved in \(nearTieMoves) captions: \(line) against scan-eval's \(t2iLine)")
            }
        }
    }
}
