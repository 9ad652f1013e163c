import Foundation
import SCANSearch
import TestSupport
import XCTest

/// Issue 15, the index and search side: images a second source would have dropped silently, a refitted
/// prefilter, and what scan-index / scan-search print.
final class NewUserIndexTests: XCTestCase {
    var world: SearchWorld { SearchWorld.shared }

    func quiet() -> BuildOptions { var o = BuildOptions(); o.showProgress = false; o.batchSize = 64; return o }

    /// The first `n` test images, every value scaled: another features file whose default ids (row
    /// numbers) collide with the test split's.
    func otherFile(_ dir: String, n: Int = 50) throws -> String {
        let all = try NPY.read(world.testImages)
        let per = all.shape[1] * all.shape[2]
        let t = Tensor(shape: [n, all.shape[1], all.shape[2]], data: all.data[0..<(n * per)].map { $0 * 1.5 })
        let path = dir + "/other_ims.npy"
        try NPY.write(t, to: path)
        return path
    }

    func testAnotherSourceWithCollidingIDsIsAnErrorAndTheSameSourceResumes() throws {
        let dir = makeTempDir(self)
        let index = dir + "/index"
        let first = try IndexBuilder.build(index: index, modelDirectory: world.modelFitted,
                                           source: try PrecompFeatureSource(imagesPath: world.testImages), options: quiet())
        XCTAssertEqual(first.appended, 400)
        let entry = try XCTUnwrap(first.manifest.sourceFiles?.first)
        XCTAssertEqual(entry.path, world.testImages)
        XCTAssertEqual(entry.size, (try FileManager.default.attributesOfItem(atPath: world.testImages))[.size] as? Int)
        XCTAssertEqual(entry.fingerprint.count, 16)

        // `add` of another .npy without --ids: refused, naming --ids, nothing appended.
        let other = try otherFile(dir)
        XCTAssertThrowsError(try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: other), options: quiet())) { err in
            guard case let SearchError.idCollision(_, source, count, sourceCount, others, _) = err else { return XCTFail("\(err)") }
            XCTAssertEqual(source, other)
            XCTAssertEqual(count, 50)
            XCTAssertEqual(sourceCount, 50)
            XCTAssertEqual(others, [world.testImages])
            XCTAssertTrue("\(err)".contains("50 of its 50 ids are already in the index") && "\(err)".contains("--ids"), "\(err)")
        }
        // `build` into the existing index with the other file: the same error (it used to merge and drop the collisions).
        XCTAssertThrowsError(try IndexBuilder.build(index: index, modelDirectory: world.modelFitted,
                                                    source: try PrecompFeatureSource(imagesPath: other), options: quiet())) { err in
            guard case SearchError.idCollision = err else { return XCTFail("\(err)") }
        }
        XCTAssertEqual(try IndexReader(path: index).manifest.imageCount, 400)

        // The same source again (a resumed or repeated build): skipped, said in those words.
        let again = try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: world.testImages), options: quiet())
        XCTAssertEqual(again.appended, 0)
        XCTAssertEqual(again.alreadyPresent, 400)
        XCTAssertTrue(again.summary.contains("400 of the source's 400 ids already in the index"), again.summary)
        // A copy of it elsewhere is the same content: skipped too.
        try FileManager.default.copyItem(atPath: world.testImages, toPath: dir + "/copy_ims.npy")
        XCTAssertEqual(try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: dir + "/copy_ims.npy"), options: quiet()).appended, 0)

        // With its own ids the other file is appended.
        try ((0..<50).map { "other-\($0)" }.joined(separator: "\n") + "\n").write(toFile: dir + "/ids.txt", atomically: true, encoding: .utf8)
        let added = try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: other, idsPath: dir + "/ids.txt"), options: quiet())
        XCTAssertEqual(added.appended, 50)
        XCTAssertEqual(added.manifest.imageCount, 450)
        XCTAssertEqual(added.manifest.sourceFiles?.map(\.path), [world.testImages, dir + "/copy_ims.npy", other])
        XCTAssertFalse(added.summary.contains("already"), added.summary)
        // The same path with other content is another source.
        let changed = try NPY.read(other)
        try NPY.write(Tensor(shape: changed.shape, data: changed.data.map { $0 * 2 }), to: other)
        XCTAssertThrowsError(try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: other, idsPath: dir + "/ids.txt"), options: quiet())) { err in
            XCTAssertTrue("\(err)".contains("\(other) itself has changed since it was appended"), "\(err)")
        }
    }

    /// A build interrupted half way resumes from the same source (its ids are skipped, not an error).
    func testInterruptedBuildOfTheSameSourceResumes() throws {
        let dir = makeTempDir(self)
        let index = dir + "/index"
        let src = try PrecompFeatureSource(imagesPath: world.testImages)
        do {
            let model = try IndexModel(directory: world.modelFitted)
            let b = try IndexBuilder.open(creating: index, model: model, options: quiet())
            final class Half: FeatureSource {
                let inner: FeatureSource
                init(_ s: FeatureSource) { inner = s }
                var sourceDescription: String { inner.sourceDescription }
                var count: Int { 150 }
                var imgDim: Int { inner.imgDim }
                func id(at index: Int) -> String { inner.id(at: index) }
                func item(at index: Int) throws -> FeatureItem { try inner.item(at: index) }
                func checkValues() throws {}
            }
            XCTAssertEqual(try b.append(Half(src)).appended, 150)
        }
        let r = try IndexBuilder.build(index: index, modelDirectory: world.modelFitted, source: src, options: quiet())
        XCTAssertEqual(r.appended, 250)
        XCTAssertEqual(r.alreadyPresent, 150)
        XCTAssertEqual(r.manifest.imageCount, 400)
        XCTAssertEqual(r.manifest.state, .complete)
    }

    /// A refitted prefilter: build and add give the same message, naming both prefilters and what to do.
    func testRefittedPrefilterGivesOneClearMessageFromBuildAndAdd() throws {
        let dir = makeTempDir(self)
        let model = dir + "/model"
        try FileManager.default.copyItem(atPath: world.modelFitted, toPath: model)
        let index = dir + "/index"
        _ = try IndexBuilder.build(index: index, modelDirectory: model, source: try PrecompFeatureSource(imagesPath: world.testImages), options: quiet())
        // "Refit": another prefilter file in the model directory.
        try FileManager.default.removeItem(atPath: model + "/prefilter.safetensors")
        var messages: [String] = []
        let images = world.testImages, o = quiet()
        for run in [{ _ = try IndexBuilder.build(index: index, modelDirectory: model, source: try PrecompFeatureSource(imagesPath: images), options: o) },
                    { _ = try IndexBuilder.add(index: index, source: try PrecompFeatureSource(imagesPath: images), modelDirectory: model, options: o) }] {
            XCTAssertThrowsError(try run()) { err in
                guard case SearchError.otherPrefilter = err else { return XCTFail("\(err)") }
                messages.append("\(err)")
            }
        }
        XCTAssertEqual(messages.count, 2)
        XCTAssertEqual(messages.first, messages.last)
        let m = messages[0]
        XCTAssertTrue(m.contains("\(index) was built with prefilter") && m.contains("\(model) now has prefilter none (plain mean)")
                      && m.contains("without --model") && m.contains("--force"), m)
    }

    /// The command line: collisions name --ids, --quiet is quiet, a missing --index/--name gives the
    /// subcommand's usage, and the help examples are the README's names.
    func testScanIndexMessagesAndHelp() throws {
        let tmp = makeTempDir(self)
        let index = tmp + "/Indexes/f30k_test"
        let build = try ToolRunner.run("scan-index", ["build", "--model", world.modelFitted, "--features", world.testImages, "--name", "f30k_test", "--quiet"], in: tmp)
        XCTAssertEqual(build.status, 0, build.stderr)
        XCTAssertFalse(build.stderr.contains("captions:"), "--quiet: \(build.stderr)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: index + "/data.mdb"))
        let loud = try ToolRunner.run("scan-index", ["add", "--index", index, "--features", world.testImages], in: tmp)
        XCTAssertEqual(loud.status, 0, loud.stderr)
        XCTAssertTrue(loud.stderr.contains("captions: \(world.testCaptions)"), loud.stderr)
        XCTAssertTrue(loud.stdout.contains("0 images appended; 400 of the source's 400 ids already in the index"), loud.stdout)
        XCTAssertFalse(loud.stdout.contains("were present"), loud.stdout)

        let other = try otherFile(tmp)
        let add = try ToolRunner.run("scan-index", ["add", "--index", index, "--features", other, "--quiet"], in: tmp)
        XCTAssertNotEqual(add.status, 0)
        XCTAssertTrue(add.stderr.contains("50 of its 50 ids are already in the index") && add.stderr.contains("--ids FILE"), add.stderr)
        XCTAssertEqual(try IndexReader(path: index).manifest.imageCount, 400)

        let missing = try ToolRunner.run("scan-index", ["build", "--model", world.modelFitted, "--features", world.testImages], in: tmp)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("give --index DIR or --name NAME"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("Usage: scan-index build [<options>] --model <model> --features <path>"), "the subcommand's usage: \(missing.stderr)")
        XCTAssertFalse(missing.stderr.contains("<subcommand>"), missing.stderr)

        let help = try ToolRunner.run("scan-index", ["build", "--help"], in: tmp)
        XCTAssertTrue(help.stdout.contains("--model runs/f30k_scan/checkpoint/model_best") && help.stdout.contains("--name f30k_test"), help.stdout)
        let searchHelp = try ToolRunner.run("scan-search", ["--help"], in: tmp)
        XCTAssertTrue(searchHelp.stdout.contains("--name f30k_test") && searchHelp.stdout.contains("Indexes/f30k_test"), searchHelp.stdout)
        XCTAssertFalse(searchHelp.stdout.contains("f30k-test"), searchHelp.stdout)
    }

    /// scan-search: K raised to --top is said, unknown words are in the JSON, the text output has a header
    /// and an id column of one width.
    func testScanSearchSaysWhatItDid() throws {
        let tmp = makeTempDir(self)
        let index = try world.index("fitted", model: world.modelFitted)
        let raised = try ToolRunner.run("scan-search", ["a dog", "--index", index, "--candidates", "5", "--top", "10", "--json"], in: tmp)
        XCTAssertEqual(raised.status, 0, raised.stderr)
        XCTAssertTrue(raised.stderr.contains("--candidates 5 is below --top 10") && raised.stderr.contains("K raised to --top"), raised.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(raised.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((obj["results"] as? [Any])?.count, 10)
        XCTAssertEqual(obj["unknown_words"] as? [String], [])
        let unknown = try ToolRunner.run("scan-search", ["a zebra near a giraffe", "--index", index, "--json"], in: tmp)
        XCTAssertEqual(unknown.status, 0, unknown.stderr)
        let u = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(unknown.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(u["unknown_words"] as? [String], ["zebra", "giraffe"])
        let quietOK = try ToolRunner.run("scan-search", ["a dog", "--index", index, "--candidates", "20", "--top", "10"], in: tmp)
        XCTAssertFalse(quietOK.stderr.contains("below --top"), quietOK.stderr)

        // Text: header, then rows whose caption column starts at the same offset for every query.
        let queries = try world.queries().prefix(2).map(\.caption)
        var starts = Set<Int>()
        for q in queries {
            let text = try ToolRunner.run("scan-search", [q, "--index", index, "--top", "3"], in: tmp)
            XCTAssertEqual(text.status, 0, text.stderr)
            let lines = text.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines[0], "query: \(q)")
            XCTAssertTrue(lines[1].hasPrefix("rank      score  id"), lines[1])
            let header = lines[1]
            starts.insert(header.distance(from: header.startIndex, to: try XCTUnwrap(header.range(of: "captions")).lowerBound))
            let s = try Searcher(index: index)
            let hits = try s.search(query: q, top: 3)
            let row = lines[2]
            XCTAssertEqual(String(row.dropFirst(17).prefix(SearchOutput.textIDWidth)).trimmingCharacters(in: .whitespaces), hits[0].id)
            starts.insert(row.distance(from: row.startIndex, to: try XCTUnwrap(row.range(of: hits[0].captions[0])).lowerBound))
        }
        XCTAssertEqual(starts, [17 + SearchOutput.textIDWidth + 2])
    }

    /// The README: every flag of every tool command it shows exists in that command's --help, the names
    /// agree with the tools' help, and the demo numbers are stated as one machine's, with ranges.
    func testReadmeExamplesUseFlagsTheToolsHave() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let tmp = makeTempDir(self)
        let joined = readme.replacingOccurrences(of: "\\\n", with: " ")
        let command = try NSRegularExpression(pattern: #"(?:\$B/|\.build/release/)(scan-[a-z]+)((?: (?:fit|build|add|info|verify|retention|similarity|train|index|packed-gemm|convert|codec|first-stage))?)([^\n`&|]*)"#)
        var checked = 0
        var helps: [String: String] = [:]
        for m in command.matches(in: joined, range: NSRange(joined.startIndex..., in: joined)) {
            let tool = String(joined[Range(m.range(at: 1), in: joined)!])
            let sub = String(joined[Range(m.range(at: 2), in: joined)!]).trimmingCharacters(in: .whitespaces)
            let rest = String(joined[Range(m.range(at: 3), in: joined)!])
            let key = tool + " " + sub
            if helps[key] == nil {
                let h = try ToolRunner.run(tool, (sub.isEmpty ? [] : [sub]) + ["--help"], in: tmp)
                XCTAssertEqual(h.status, 0, "\(key) --help: \(h.stderr)")
                helps[key] = h.stdout
            }
            let flags = try NSRegularExpression(pattern: #"(?<![A-Za-z0-9_])--[a-z][a-z0-9_-]*"#)
            for f in flags.matches(in: rest, range: NSRange(rest.startIndex..., in: rest)) {
                let flag = String(rest[Range(f.range, in: rest)!])
                XCTAssertTrue(helps[key]!.contains(flag), "README: `\(key.trimmingCharacters(in: .whitespaces)) ... \(flag)` is not in its --help")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 30, "flags checked")
        // The tools' own examples: not re-wrapped (a wrapped line breaks when pasted), and their flags exist.
        for (tool, sub) in [("scan-index", "build"), ("scan-index", "add"), ("scan-search", ""), ("scan-train", ""), ("scan-vocab", ""), ("scan-prefilter", "fit")] {
            let help = try ToolRunner.run(tool, (sub.isEmpty ? [] : [sub]) + ["--help"], in: tmp).stdout
            let lines = help.components(separatedBy: "\n")
            let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("Example") }, "\(tool) \(sub) has an example")
            let block = lines[(start + 1)...].prefix { !$0.isEmpty }
            XCTAssertFalse(block.isEmpty, tool)
            for l in block {
                XCTAssertTrue(l.hasPrefix("  "), "\(tool) \(sub): example line re-wrapped: \(l)")
                for f in l.split(separator: " ") where f.hasPrefix("--") {
                    let flag = f.split(separator: "=")[0]
                    XCTAssertTrue(help.contains("  \(flag) ") || help.contains("  \(flag)\n") || help.contains("  \(flag) <"), "\(tool) \(sub): \(flag)")
                }
            }
        }
        XCTAssertFalse(readme.contains("f30k-test"))
        XCTAssertTrue(readme.contains("--name f30k_test") && readme.contains("Indexes/f30k_test"))
        XCTAssertTrue(readme.contains("runs/f30k_scan/checkpoint/model_best"))
        XCTAssertFalse(readme.contains("| `scan-bench` (Tools/) |"))
        XCTAssertTrue(readme.contains(".build/release/scan-bench"))
        // Demo numbers: one machine's, deterministic there, with what holds across machines.
        XCTAssertTrue(readme.contains("deterministic on one machine") && readme.contains("592.6, 596.6, 595.9")
                      && readme.contains("595.1-596.6 after epoch 2, 595.9-597.0 after epoch 3"), "the demo numbers' caveat")
        // The dev split need and the vocabulary advice.
        for s in ["A dev split is needed", "--val_train_images", "--no_val", "--no_dev", "--vocab_path vocab/mydata", "--ids dev_ids.txt"] {
            XCTAssertTrue(readme.contains(s), s)
        }
    }
}
