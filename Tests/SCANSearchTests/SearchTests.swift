import Foundation
import SCANBenchmarks
import SCANSearch
import TestSupport
import XCTest

/// Two-stage search against exact search, storage precision, queries, output and the model copy checks.
final class SearchTests: XCTestCase {
    var world: SearchWorld { SearchWorld.shared }

    /// Re-ranked scores are the exact-mode scores of the same images, and with every image as a
    /// candidate the two-stage ranking is the exact ranking.
    func testRerankedScoresEqualExactScores() throws {
        let s = try Searcher(index: try world.index("fitted", model: world.modelFitted))
        let qs = try s.encode(try world.queries().prefix(25).map(\.caption))
        let snap = try s.snapshot()
        defer { snap.close() }
        let all = try s.exactScores(qs, snapshot: snap)
        var maxDiff: Float = 0, maxDiffSingle: Float = 0, compared = 0
        for (j, q) in qs.enumerated() {
            let twoStage = try s.search(q, top: 10, candidates: Searcher.defaultCandidates)
            let exact = try s.search(q, top: 10, exact: true)
            let everything = try s.search(q, top: 10, candidates: snap.count)
            // Exact mode's scores of every image for this query alone.
            let single = try s.exactScores(q, snapshot: snap)
            XCTAssertEqual(twoStage.count, 10)
            for h in twoStage + exact + everything {
                maxDiff = max(maxDiff, abs(h.score - all[j][Int(h.key)]))
                maxDiffSingle = max(maxDiffSingle, abs(h.score - single[Int(h.key)]))
                compared += 1
            }
            XCTAssertEqual(everything.map(\.id), exact.map(\.id), "query \(j)")
            for (a, b) in zip(everything, exact) { XCTAssertEqual(a.score, b.score, accuracy: 1e-6) }
            XCTAssertEqual(exact.map(\.rank), Array(1...10))
            XCTAssertTrue(zip(exact, exact.dropFirst()).allSatisfy { $0.score >= $1.score })
            XCTAssertNil(exact[0].prefilterScore)
            XCTAssertNotNil(twoStage[0].prefilterScore)
        }
        print("re-ranked vs exact-mode scores of the same images: max |difference| \(maxDiffSingle) (same query alone), " +
              "\(maxDiff) (scored in a batch of \(qs.count) queries) over \(compared) hits")
        // Equal up to rounding: BLAS may split a product differently for 100 candidates than for all images.
        XCTAssertLessThanOrEqual(maxDiffSingle, 1e-6, "BLAS kernel \(BLAS.coreName)")
        XCTAssertLessThanOrEqual(maxDiff, 1e-6)
    }

    /// The deviation of float16 (and int8) storage from float32 storage, on SCAN scores of every image.
    func testStoragePrecisionDeviationFromFloat32() throws {
        let queries = try world.queries().enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        var exact: [Precision: [[Float]]] = [:]
        var recall: [Precision: RetentionStudy.Recall] = [:]
        for p in Precision.scalar {
            let s = try Searcher(index: try world.index("fitted-\(p.rawValue)", model: world.modelFitted, precision: p))
            let qs = try s.encode(queries.map(\.caption))
            let snap = try s.snapshot()
            let scores = try s.exactScores(qs, snapshot: snap)
            let targets = try queries.map { Int(try XCTUnwrap(try snap.key(forID: $0.imageID))) }
            snap.close()
            exact[p] = scores
            // t2i recall: the 0-based rank of each query's image (ties: lower key first, as the searcher).
            let ranks = zip(scores, targets).map { sc, t in sc.indices.filter { sc[$0] > sc[t] || (sc[$0] == sc[t] && $0 < t) }.count }
            func at(_ k: Int) -> Double { 100 * Double(ranks.filter { $0 < k }.count) / Double(ranks.count) }
            recall[p] = RetentionStudy.Recall(r1: at(1), r5: at(5), r10: at(10))
        }
        let ref = exact[.float32]!
        var lines = ["storage precision vs float32 (\(queries.count) queries x \(ref[0].count) images, SCAN scores):"]
        var maxDev: [Precision: Float] = [:]
        for p in [Precision.float16, .int8] {
            var m: Float = 0, sum = 0.0, n = 0, sameTop10 = 0
            for (a, b) in zip(exact[p]!, ref) {
                for (x, y) in zip(a, b) { m = max(m, abs(x - y)); sum += Double(abs(x - y)); n += 1 }
                if TopK.select(a, k: 10) == TopK.select(b, k: 10) { sameTop10 += 1 }
            }
            maxDev[p] = m
            let r = recall[p]!, r32 = recall[.float32]!
            lines.append(String(format: "  %@: max |d| %.2e, mean |d| %.2e; identical top-10 lists %d/%d; exact R@1/5/10 %.1f/%.1f/%.1f (float32 %.1f/%.1f/%.1f)",
                                p.rawValue, m, sum / Double(n), sameTop10, ref.count, r.r1, r.r5, r.r10, r32.r1, r32.r5, r32.r10))
        }
        print(lines.joined(separator: "\n"))
        XCTAssertLessThan(maxDev[.float16]!, 2e-3)
        XCTAssertLessThan(maxDev[.int8]!, 3e-2)
        XCTAssertGreaterThan(maxDev[.float16]!, 0, "float16 storage should not be bit exact")
    }

    func testQueriesUnknownWordsAndOutput() throws {
        let s = try Searcher(index: try world.index("fitted", model: world.modelFitted))
        XCTAssertThrowsError(try s.search(query: "   ")) { XCTAssertEqual($0 as? SearchError, .emptyQuery) }
        XCTAssertThrowsError(try s.search(query: "")) { XCTAssertEqual($0 as? SearchError, .emptyQuery) }
        let unknown = try s.encode("zebra giraffe")
        XCTAssertTrue(unknown.allUnknown)
        XCTAssertEqual(unknown.unknownWords, ["zebra", "giraffe"])
        let warning = try XCTUnwrap(unknown.warning)
        XCTAssertTrue(warning.contains("'zebra'") && warning.contains("'giraffe'"), warning)
        XCTAssertEqual(try s.search(unknown, top: 3).count, 3, "answered despite the warning")
        let partly = try s.encode("a dog and a zebra")
        XCTAssertFalse(partly.allUnknown)
        XCTAssertEqual(partly.unknownWords, ["zebra"])
        XCTAssertNil(try s.encode("a dog and a cat").warning)
        // The query encoder (GRU directions side by side) gives the model's own caption embedding.
        for text in ["a dog and a cat", "horse", "there is a kite next to a bike and a car ."] {
            let q = try s.encode(text)
            XCTAssertEqual(q.caption, try s.model.model.encodeCaptions([q.tokenIDs]), text)
        }

        // More results than images: every image once.
        let n = s.manifest.imageCount
        let all = try s.search(query: "a dog", top: n + 50, candidates: 10)
        XCTAssertEqual(all.count, n)
        XCTAssertEqual(Set(all.map(\.id)).count, n)

        // One JSON object per query on one line, in the documented shape.
        let q = "a \"quoted\" dog\tand a cat"
        let hits = try s.search(query: q, top: 3)
        let line = SearchOutput.jsonLine(query: q, hits: hits)
        XCTAssertFalse(line.contains("\n"))
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(obj["query"] as? String, q)
        let results = try XCTUnwrap(obj["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["rank"] as? Int }, [1, 2, 3])
        XCTAssertEqual(results.map { $0["id"] as? String }, hits.map(\.id))
        XCTAssertEqual(results.map { ($0["score"] as? NSNumber)?.floatValue }, hits.map(\.score))
        XCTAssertEqual(results[0]["captions"] as? [String], hits[0].captions)
        XCTAssertEqual(hits[0].captions.count, 5)
        XCTAssertTrue(SearchOutput.text(query: q, hits: hits).contains(hits[0].id))
    }

    func testModelCopyAndOtherModelsAreChecked() throws {
        XCTAssertThrowsError(try Searcher(index: "/nonexistent/index")) {
            guard case .noIndex = $0 as? SearchError else { return XCTFail("\($0)") }
        }
        let dir = try world.freshIndex(self, model: world.modelFitted)
        let copy = dir + "/model"
        let original = try Data(contentsOf: URL(fileURLWithPath: copy + "/config.json"))

        // Another model's copy (here: the config edited) is refused with both fingerprints named.
        var config = try ModelConfig.load(path: copy + "/config.json")
        config.lambdaSoftmax += 1
        try config.write(to: copy + "/config.json")
        XCTAssertThrowsError(try Searcher(index: dir)) { err in
            guard case let .modelMismatch(_, m, c)? = err as? SearchError else { return XCTFail("\(err)") }
            XCTAssertNotEqual(m, c)
            XCTAssertTrue("\(err)".contains(m) && "\(err)".contains(c), "\(err)")
        }
        try original.write(to: URL(fileURLWithPath: copy + "/config.json"))
        XCTAssertNoThrow(try Searcher(index: dir))

        // The prefilter recorded in the manifest must be in the copy.
        try FileManager.default.moveItem(atPath: copy + "/prefilter.safetensors", toPath: dir + "/pf.bak")
        XCTAssertThrowsError(try Searcher(index: dir)) {
            guard case .prefilterMismatch = $0 as? SearchError else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".contains("not the one the index was built with") && "\($0)".contains("put the original back"), "\($0)")
        }
        try FileManager.default.moveItem(atPath: dir + "/pf.bak", toPath: copy + "/prefilter.safetensors")

        // Building into it (or adding to it) with another model is refused; the index is unchanged.
        let before = try IndexReader(path: dir).manifest
        let src = try PrecompFeatureSource(imagesPath: world.testImages)
        XCTAssertThrowsError(try IndexBuilder.build(index: dir, modelDirectory: world.modelPlain, source: src)) {
            XCTAssertTrue("\($0)".contains("prefilter"), "\($0)")
        }
        XCTAssertThrowsError(try IndexBuilder.add(index: dir, source: src, modelDirectory: world.modelPlain)) {
            XCTAssertTrue("\($0)".contains("prefilter"), "\($0)")
        }
        XCTAssertEqual(try IndexReader(path: dir).manifest, before)
        // The same model is accepted, and adding what is there already appends nothing.
        let r = try IndexBuilder.add(index: dir, source: src, modelDirectory: world.modelFitted, options: quiet())
        XCTAssertEqual(r.appended, 0)
        XCTAssertEqual(r.alreadyPresent, 400)
    }

    func quiet() -> BuildOptions { var o = BuildOptions(); o.showProgress = false; return o }

    /// ids from an ids file, captions from the captions file; per-image .npy files with varying region
    /// counts and their NAME.txt captions; a TSV whose boxes are kept.
    func testSourcesIDsCaptionsAndBoxes() throws {
        let tmp = makeTempDir(self)
        let ids = (0..<400).map { String(format: "flickr-%04d", $0) }
        try (ids.joined(separator: "\n") + "\n").write(toFile: tmp + "/ids.txt", atomically: true, encoding: .utf8)
        let opened = try FeatureSources.open(path: world.testImages, ids: tmp + "/ids.txt")
        XCTAssertEqual(opened.kind, .precomp)
        XCTAssertEqual(opened.notes.count, 1, "test_caps.txt is picked up")
        var f16 = quiet()
        f16.precision = .float16  // as the shared index, so that the scores compare exactly
        _ = try IndexBuilder.build(index: tmp + "/a", modelDirectory: world.modelFitted, source: opened.source, options: f16)
        let s = try Searcher(index: tmp + "/a")
        // A query the shared index (same images, ids "0", "1", ...) answers with its own image first.
        let shared = try Searcher(index: try world.index("fitted", model: world.modelFitted))
        let q = try XCTUnwrap(try world.queries().first { try shared.search(query: $0.caption, top: 1)[0].id == $0.imageID })
        let hits = try s.search(query: q.caption, top: 5)
        XCTAssertTrue(hits.allSatisfy { $0.id.hasPrefix("flickr-") })
        XCTAssertEqual(hits[0].id, ids[Int(q.imageID)!])
        XCTAssertTrue(hits[0].captions.contains(q.caption))
        XCTAssertEqual(hits.map(\.score), try shared.search(query: q.caption, top: 5).map(\.score))

        // A directory of per-image .npy files, 2 to 6 regions each.
        let feats = try NPY.read(world.testImages)
        try FileManager.default.createDirectory(atPath: tmp + "/dir", withIntermediateDirectories: true)
        var tsv = "image_id\timage_w\timage_h\tnum_boxes\tboxes\tfeatures\n"
        for i in 0..<12 {
            let rows = 2 + i % 5
            var t = Tensor(zeros: [rows, 16])
            for r in 0..<rows { for k in 0..<16 { t[r, k] = feats[i, r % 4, k] } }
            try NPY.write(t, to: tmp + "/dir/im\(i).npy")
            try "caption of im\(i)\n".write(toFile: tmp + "/dir/im\(i).txt", atomically: true, encoding: .utf8)
            let boxes = (0..<(rows * 4)).map { Float($0 + i) }
            func b64(_ x: [Float]) -> String { x.withUnsafeBytes { Data($0).base64EncodedString() } }
            tsv += "tsv\(i)\t640\t480\t\(rows)\t\(b64(boxes))\t\(b64(t.data))\n"
        }
        try tsv.write(toFile: tmp + "/f.tsv", atomically: true, encoding: .utf8)
        let dirSource = try FeatureSources.open(path: tmp + "/dir")
        XCTAssertEqual(dirSource.kind, .npyDirectory)
        let rd = try IndexBuilder.build(index: tmp + "/b", modelDirectory: world.modelFitted, source: dirSource.source, options: quiet())
        XCTAssertEqual(rd.manifest.regionCount, (0..<12).reduce(0) { $0 + 2 + $1 % 5 })
        let db = try Searcher(index: tmp + "/b").search(query: "a dog", top: 12)
        XCTAssertEqual(Set(db.map(\.id)), Set((0..<12).map { "im\($0)" }))
        XCTAssertTrue(db.allSatisfy { $0.captions == ["caption of \($0.id)"] })

        let tsvSource = try FeatureSources.open(path: tmp + "/f.tsv")
        XCTAssertEqual(tsvSource.kind, .tsv)
        _ = try IndexBuilder.build(index: tmp + "/c", modelDirectory: world.modelFitted, source: tsvSource.source, options: quiet())
        let r = try IndexReader(path: tmp + "/c")
        try r.withSnapshot { snap in
            let k = try XCTUnwrap(try snap.key(forID: "tsv3"))
            let md = try snap.metadata(k)
            XCTAssertEqual(md.boxes, (0..<(5 * 4)).map { Float($0 + 3) })
            XCTAssertEqual(md.imageWidth, 640)
            XCTAssertEqual(md.imageHeight, 480)
        }
        // The same features give the same scores whichever source they came from.
        let a = try Searcher(index: tmp + "/b").search(query: "a cat", top: 12).sorted { $0.id < $1.id }
        let b = try Searcher(index: tmp + "/c").search(query: "a cat", top: 12).sorted { $0.id < $1.id }
        XCTAssertEqual(a.map(\.score), b.map(\.score))
        XCTAssertThrowsError(try FeatureSources.open(path: tmp + "/dir", captions: tmp + "/ids.txt"))
        XCTAssertThrowsError(try FeatureSources.open(path: tmp + "/ids.txt"))
    }
}

/// The command-line tools end to end: build, info, search (text, JSON, stdin), errors.
final class CommandLineTests: XCTestCase {
    func testBuildInfoAndSearchFromTheCommandLine() throws {
        let world = SearchWorld.shared
        let tmp = makeTempDir(self)
        let index = tmp + "/Indexes/test"
        let build = try ToolRunner.run("scan-index", ["build", "--model", world.modelFitted, "--features", world.testImages, "--index", index], in: tmp)
        XCTAssertEqual(build.status, 0, build.stderr)
        XCTAssertTrue(build.stdout.contains("400 images appended"), build.stdout)
        XCTAssertTrue(build.stderr.contains("test_caps.txt"), "the captions file next to the features is named: \(build.stderr)")
        let info = try ToolRunner.run("scan-index", ["info", "--index", index], in: tmp)
        XCTAssertEqual(info.status, 0, info.stderr)
        for s in ["state: complete", "images: 400 live, 0 deleted", "prefilter: projection", "region precision: pq4", "bytes per image"] {
            XCTAssertTrue(info.stdout.contains(s), "\(s) in:\n\(info.stdout)")
        }
        let verify = try ToolRunner.run("scan-index", ["verify", "--index", index], in: tmp)
        XCTAssertEqual(verify.status, 0, verify.stdout)

        // Queries from stdin, answered in order, one JSON object per line; an empty line is an error line.
        let queries = try world.queries().prefix(3).map(\.caption)
        let input = queries[0] + "\n" + queries[1] + "\n\n" + queries[2] + "\n"
        let json = try ToolRunner.run("scan-search", ["-", "--index", index, "--json", "--top", "4"], stdin: input, in: tmp)
        XCTAssertEqual(json.status, 1, "one empty query")
        let lines = json.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        let objects = try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(objects.map { $0["query"] as? String }, [queries[0], queries[1], "", queries[2]])
        XCTAssertNotNil(objects[2]["error"])
        let s = try Searcher(index: index)
        for (k, q) in [(0, queries[0]), (1, queries[1]), (3, queries[2])] {
            let results = try XCTUnwrap(objects[k]["results"] as? [[String: Any]])
            XCTAssertEqual(results.compactMap { $0["id"] as? String }, try s.search(query: q, top: 4).map(\.id))
        }

        // The only index under ./Indexes is found without --index; text output names ranks, ids and captions.
        let text = try ToolRunner.run("scan-search", [queries[0], "--top", "2"], in: tmp)
        XCTAssertEqual(text.status, 0, text.stderr)
        let top = try s.search(query: queries[0], top: 2)
        XCTAssertTrue(text.stdout.contains(top[0].id) && text.stdout.contains(top[0].captions[0]), text.stdout)
        let exact = try ToolRunner.run("scan-search", [queries[0], "--index", index, "--exact", "--json", "--top", "2"], in: tmp)
        XCTAssertEqual(exact.status, 0, exact.stderr)

        // Errors: empty query, unknown words (answered, with a warning), no index.
        let empty = try ToolRunner.run("scan-search", ["  ", "--index", index], in: tmp)
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("empty query"), empty.stderr)
        let unknown = try ToolRunner.run("scan-search", ["zebra giraffe", "--index", index, "--json"], in: tmp)
        XCTAssertEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("'zebra'") && unknown.stderr.contains("'giraffe'"), unknown.stderr)
        XCTAssertEqual(unknown.stdout.split(separator: "\n").count, 1)
        let missing = try ToolRunner.run("scan-search", ["a dog", "--index", tmp + "/nothing"], in: tmp)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no index at"), missing.stderr)
        let plain = try ToolRunner.run("scan-index", ["build", "--model", world.modelPlain, "--features", world.testImages, "--name", "plain", "--quiet"], in: tmp)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("retention will be poor"), plain.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp + "/Indexes/plain/model/config.json"))
        let two = try ToolRunner.run("scan-search", ["a dog"], in: tmp)
        XCTAssertNotEqual(two.status, 0)
        XCTAssertTrue(two.stderr.contains("--index"), two.stderr)
    }
}
