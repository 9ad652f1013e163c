import Foundation
import SCANSearch
import TestSupport
import XCTest

/// Shards of an index: `build --shard i/N` and `split` put each id where XXH64(UTF-8 id) mod N says,
/// make the same shard indexes, share one model and prefilter (one set fingerprint), and the merged
/// exact results of the shards equal the whole index's.
final class ShardTests: XCTestCase {
    var world: SearchWorld { SearchWorld.shared }

    func buildShard(_ i: Int, of n: Int, into path: String, model: String? = nil, precision: Precision = .float16, batchSize: Int = 64,
                    codebookSeed: UInt64? = nil) throws -> BuildReport {
        var o = BuildOptions()
        if let codebookSeed { o.codebookTrainer.seed = codebookSeed }
        o.showProgress = false
        o.batchSize = batchSize
        o.shard = (i, n)
        o.precision = precision
        let src = try PrecompFeatureSource(imagesPath: world.testImages, captionsPath: world.testCaptions)
        return try IndexBuilder.build(index: path, modelDirectory: model ?? world.modelFitted, source: src, options: o)
    }

    func ids(_ index: String) throws -> [String] {
        try IndexReader(path: index, allowIncomplete: true).withSnapshot { s in try s.keys().map { try s.metadata($0).id } }
    }

    func contentFingerprint(_ index: String) throws -> String {
        try IndexReader(path: index).withSnapshot { try $0.contentFingerprint() }
    }

    /// The hash is XXH64 of the UTF-8 bytes (seed 0), checked against the reference implementation's
    /// published values, so that another implementation (the Ray tools, another machine) agrees.
    func testShardOfAnIDIsXXH64ModN() {
        XCTAssertEqual(XXH64.hash([UInt8]()), 0xEF46_DB37_51D8_E999)
        XCTAssertEqual(XXH64.hash(Array("a".utf8)), 0xD24E_C4F1_A98C_6E5B)
        // A 100-byte id takes the 32-byte-stripe path; the value is python/scan_ray/xxh64.py's, written independently.
        XCTAssertEqual(XXH64.hash(Array(("flickr30k/" + String(repeating: "x", count: 90)).utf8)), 0x3BC3_3495_2505_0404)
        XCTAssertEqual(ShardMembership.shard(ofID: "a", count: 7), Int(0xD24E_C4F1_A98C_6E5B as UInt64 % 7))
        XCTAssertEqual(ShardMembership.shard(ofID: "", count: 1000), Int(0xEF46_DB37_51D8_E999 as UInt64 % 1000))
        XCTAssertNil(ShardMembership.parse("3/3"))
        XCTAssertNil(ShardMembership.parse("-1/3"))
        XCTAssertNil(ShardMembership.parse("1/0"))
        XCTAssertNil(ShardMembership.parse("1"))
        XCTAssertEqual(ShardMembership.parse("2/3")?.index, 2)
    }

    func testBuildShardsPartitionTheSourceAndSplitMakesTheSameShards() throws {
        let whole = try world.index("shards-whole", model: world.modelFitted)
        let wholeIDs = try ids(whole)
        let tmp = makeTempDir(self)
        let n = 3
        var built: [String] = []
        var union: [String] = []
        for i in 0..<n {
            let path = tmp + "/built-\(i)"
            let report = try buildShard(i, of: n, into: path)
            XCTAssertEqual(report.appended + report.otherShards, wholeIDs.count)
            let shardIDs = try ids(path)
            XCTAssertEqual(shardIDs.count, report.appended)
            XCTAssertFalse(shardIDs.isEmpty, "400 ids in 3 shards leave none empty")
            for id in shardIDs { XCTAssertEqual(Int(XXH64.hash(Array(id.utf8)) % UInt64(n)), i, "id \(id) in shard \(i)") }
            union += shardIDs
            let report2 = try IndexReader(path: path).verify()
            XCTAssertTrue(report2.isOK, report2.summary)
            built.append(path)
        }
        XCTAssertEqual(union.sorted(), wholeIDs.sorted(), "the shards hold every image once")
        let manifests = try built.map { try IndexReader(path: $0).manifest }
        XCTAssertEqual(manifests.map { $0.shard?.index }, [0, 1, 2])
        XCTAssertEqual(Set(manifests.compactMap { $0.shard?.setFingerprint }).count, 1, "one set fingerprint")
        XCTAssertEqual(Set(manifests.map(\.modelFingerprint)).count, 1)
        XCTAssertEqual(Set(manifests.map { $0.prefilterFingerprint ?? "" }).count, 1)
        XCTAssertEqual(manifests.map(\.regionCount).reduce(0, +), try IndexReader(path: whole).manifest.regionCount)

        // split == build --shard: same ids, same set, byte-identical records (the encoder gives each image
        // the same bytes whichever batch it was in), same counts. The pq4 case is its own test below.
        let report = try IndexSplitter.split(index: whole, shards: n, outPrefix: tmp + "/split")
        XCTAssertEqual(report.counts, manifests.map(\.imageCount))
        XCTAssertEqual(report.copied, wholeIDs.count)
        for i in 0..<n {
            let path = IndexSplitter.shardPath(prefix: tmp + "/split", index: i, count: n)
            XCTAssertEqual(report.paths[i], path)
            let m = try IndexReader(path: path).manifest
            XCTAssertEqual(m.shard, manifests[i].shard)
            XCTAssertEqual(m.imageCount, manifests[i].imageCount)
            XCTAssertEqual(m.regionCount, manifests[i].regionCount)
            XCTAssertEqual(try ids(path).sorted(), try ids(built[i]).sorted())
            XCTAssertEqual(try contentFingerprint(path), try contentFingerprint(built[i]), "shard \(i): split and build --shard hold the same bytes")
            XCTAssertTrue(try IndexReader(path: path).verify().isOK)
        }
        // A re-run resumes (nothing copied twice); a shard cannot be split again.
        let again = try IndexSplitter.split(index: whole, shards: n, outPrefix: tmp + "/split")
        XCTAssertEqual(again.copied, 0)
        XCTAssertEqual(again.counts, report.counts)
        XCTAssertThrowsError(try IndexSplitter.split(index: built[0], shards: 2, outPrefix: tmp + "/resplit"))
        // Another shard count or another model is another set.
        let other = try buildShard(0, of: 2, into: tmp + "/two-0")
        XCTAssertNotEqual(other.manifest.shard?.setFingerprint, manifests[0].shard?.setFingerprint)
        let plain = try buildShard(0, of: n, into: tmp + "/plain-0", model: world.modelPlain)
        XCTAssertNotEqual(plain.manifest.shard?.setFingerprint, manifests[0].shard?.setFingerprint)
        // A shard's directory cannot be reused for another shard or for a whole index.
        XCTAssertThrowsError(try buildShard(1, of: n, into: built[0]))
        var o = BuildOptions()
        o.showProgress = false
        o.precision = .float16
        let src = try PrecompFeatureSource(imagesPath: world.testImages, captionsPath: world.testCaptions)
        XCTAssertThrowsError(try IndexBuilder.build(index: built[0], modelDirectory: world.modelFitted, source: src, options: o)) { e in
            XCTAssertTrue("\(e)".contains("shard"), "\(e)")
        }
        // Adding the same source to a shard appends nothing: its images are there, the rest belong elsewhere.
        let add = try IndexBuilder.add(index: built[0], source: src, options: o)
        XCTAssertEqual(add.appended, 0)
        XCTAssertEqual(add.alreadyPresent + add.otherShards, wholeIDs.count)
    }

    /// Exact SCAN over each shard, merged by score, equals exact SCAN over the whole index: scores do not
    /// depend on the other images, so a merger of shards loses nothing.
    func testMergedExactResultsOfShardsEqualTheWholeIndex() throws {
        let whole = try world.index("shards-whole", model: world.modelFitted)
        let tmp = makeTempDir(self)
        let report = try IndexSplitter.split(index: whole, shards: 4, outPrefix: tmp + "/s")
        let wholeSearcher = try Searcher(index: whole)
        let shardSearchers = try report.paths.map { try Searcher(index: $0) }
        for (caption, _) in try world.queries().prefix(20) {
            let expected = try wholeSearcher.search(query: caption, top: 10, exact: true)
            let merged = try shardSearchers.flatMap { try $0.search(query: caption, top: 10, exact: true) }
                .sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }.prefix(10)
            XCTAssertEqual(merged.map(\.id), expected.map(\.id), caption)
            for (a, b) in zip(merged, expected) { XCTAssertEqual(a.score, b.score, accuracy: 1e-5, caption) }
        }
    }

    func testCommandLineSplitInfoAndVerifyNameTheSet() throws {
        let whole = try world.index("shards-whole", model: world.modelFitted)
        let tmp = makeTempDir(self)
        let split = try ToolRunner.run("scan-index", ["split", "--index", whole, "--shards", "2", "--out", tmp + "/cli"], in: tmp)
        XCTAssertEqual(split.status, 0, split.stderr)
        XCTAssertTrue(split.stdout.contains("400 images in 2 shards"), split.stdout)
        let set = try XCTUnwrap(try IndexReader(path: tmp + "/cli-1-of-2").manifest.shard?.setFingerprint)
        let info = try ToolRunner.run("scan-index", ["info", "--index", tmp + "/cli-1-of-2"], in: tmp)
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("shard: 1 of 2 of shard set \(set)"), info.stdout)
        let json = try ToolRunner.run("scan-index", ["info", "--index", tmp + "/cli-1-of-2", "--json"], in: tmp)
        XCTAssertTrue(json.stdout.contains("\"set_fingerprint\":\"\(set)\""), json.stdout)
        let verify = try ToolRunner.run("scan-index", ["verify", "--index", tmp + "/cli-1-of-2"], in: tmp)
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.contains("content fingerprint: "), verify.stdout)
        let bad = try ToolRunner.run("scan-index", ["build", "--model", world.modelFitted, "--features", world.testImages, "--index", tmp + "/x", "--shard", "2/2"], in: tmp)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--shard must be i/N"), bad.stderr)
        let built = try ToolRunner.run("scan-index", ["build", "--model", world.modelFitted, "--features", world.testImages, "--index", tmp + "/b1", "--shard", "1/2", "--quiet", "--precision", "float16"], in: tmp)
        XCTAssertEqual(built.status, 0, built.stderr)
        let v1 = try ToolRunner.run("scan-index", ["verify", "--index", tmp + "/b1"], in: tmp)
        let v2 = try ToolRunner.run("scan-index", ["verify", "--index", tmp + "/cli-1-of-2"], in: tmp)
        func fp(_ s: String) -> String? { s.split(separator: "\n").first { $0.hasPrefix("content fingerprint:") }.map(String.init) }
        XCTAssertNotNil(fp(v1.stdout))
        XCTAssertEqual(fp(v1.stdout), fp(v2.stdout))
    }

    /// pq4 split == pq4 build --shard, byte for byte: the codebook (trained on the whole source's
    /// sample in both) and every code depend on the images alone, not on the batches they were
    /// encoded in. The shards are built in batches of 7 (the whole index in batches of 64), so no
    /// image meets the same batch companions, nor the same position in its batch, twice.
    func testSplitOfAPQIndexEqualsBuildShardByteForByte() throws {
        let whole = try world.index("shards-pq4", model: world.modelFitted, precision: .pq4)
        let tmp = makeTempDir(self)
        let n = 2
        let report = try IndexSplitter.split(index: whole, shards: n, outPrefix: tmp + "/split")
        let wholeCodebook = try IndexReader(path: whole).withSnapshot { try $0.codebook() }
        XCTAssertNotNil(wholeCodebook)
        for i in 0..<n {
            let built = tmp + "/built-\(i)"
            let b = try buildShard(i, of: n, into: built, precision: .pq4, batchSize: 7)
            XCTAssertGreaterThan(b.appended, 0)
            XCTAssertEqual(try IndexReader(path: built).withSnapshot { try $0.codebook() }, wholeCodebook, "shard \(i): the same codebook")
            XCTAssertEqual(try IndexReader(path: report.paths[i]).manifest.shard, try IndexReader(path: built).manifest.shard)
            XCTAssertEqual(try ids(report.paths[i]).sorted(), try ids(built).sorted())
            XCTAssertEqual(try contentFingerprint(report.paths[i]), try contentFingerprint(built), "shard \(i): split and build --shard hold the same bytes")
            XCTAssertTrue(try IndexReader(path: built).verify().isOK)
        }
    }

    /// A pq shard set's fingerprint names the codebook: two shards whose codes mean different things
    /// (codebooks of another k-means seed) are not one set, although model, prefilter, precision and
    /// count agree; verify checks the manifest's codebook fingerprint against the stored codebook,
    /// and scan_ray's loader (python/scan_ray/shardset.py, through `scan-index info --json`) refuses
    /// the mixed set and accepts the matching one.
    func testShardsWithDifferentCodebooksAreDifferentSets() throws {
        let tmp = makeTempDir(self)
        _ = try buildShard(0, of: 2, into: tmp + "/a-0-of-2", precision: .pq4)
        _ = try buildShard(1, of: 2, into: tmp + "/a-1-of-2", precision: .pq4)
        _ = try buildShard(1, of: 2, into: tmp + "/b-1-of-2", precision: .pq4, codebookSeed: 99)
        let a0 = try IndexReader(path: tmp + "/a-0-of-2").manifest
        let a1 = try IndexReader(path: tmp + "/a-1-of-2").manifest
        let b1 = try IndexReader(path: tmp + "/b-1-of-2").manifest
        let cbA = try IndexReader(path: tmp + "/a-1-of-2").withSnapshot { try $0.codebook() }
        let cbB = try IndexReader(path: tmp + "/b-1-of-2").withSnapshot { try $0.codebook() }
        XCTAssertNotEqual(cbA, cbB, "another seed, another codebook")
        XCTAssertEqual(a1.codebookFingerprint, cbA?.fingerprint)
        XCTAssertEqual(b1.codebookFingerprint, cbB?.fingerprint)
        XCTAssertEqual(a0.codebookFingerprint, a1.codebookFingerprint)
        XCTAssertNotEqual(a1.codebookFingerprint, b1.codebookFingerprint)
        XCTAssertEqual(a0.shard?.setFingerprint, a1.shard?.setFingerprint, "one codebook, one set")
        XCTAssertNotEqual(a1.shard?.setFingerprint, b1.shard?.setFingerprint, "two codebooks, two sets")
        XCTAssertEqual([a1.modelFingerprint, a1.prefilterFingerprint, a1.precision.rawValue], [b1.modelFingerprint, b1.prefilterFingerprint, b1.precision.rawValue])
        // The fingerprint is the codebook-free set's, extended by the codebook's (an independent recomputation).
        let plain = try buildShard(1, of: 2, into: tmp + "/f16-1-of-2", precision: .float16).manifest.shard
        let base = ShardMembership.setFingerprint(count: 2, modelFingerprint: a1.modelFingerprint, prefilterFingerprint: a1.prefilterFingerprint,
                                                  precision: .pq4, prefilterPrecision: a1.prefilterPrecision)
        XCTAssertNotEqual(plain?.setFingerprint, base, "float16 and pq4 are other sets anyway")
        XCTAssertEqual(ShardMembership(index: 1, count: 2, setFingerprint: base).withCodebook(cbB?.fingerprint ?? "").setFingerprint, b1.shard?.setFingerprint)
        for p in ["a-0-of-2", "a-1-of-2", "b-1-of-2"] { XCTAssertTrue(try IndexReader(path: tmp + "/" + p).verify().isOK, p) }
        // A resumed build (another writer opened on the shard) accepts it: its configured set plus its stored codebook.
        let resumed = try buildShard(1, of: 2, into: tmp + "/b-1-of-2", precision: .pq4, codebookSeed: 99)
        XCTAssertEqual(resumed.appended, 0)
        XCTAssertEqual(resumed.manifest.shard, b1.shard)

        let script = """
        import sys
        from scan_ray.shardset import load_shard_set, ShardSetError
        tool, d = sys.argv[1], sys.argv[2]
        print("same", len(load_shard_set([d + "/a-0-of-2", d + "/a-1-of-2"], tool)))
        try:
            load_shard_set([d + "/a-0-of-2", d + "/b-1-of-2"], tool)
            print("mixed accepted")
        except ShardSetError as e:
            print("mixed refused:", e)
        """
        let (status, text) = try ToolRunner.runProgram("/usr/bin/env", ["python3", "-c", script, try ToolRunner.path("scan-index"), tmp],
                                                       environment: ["PYTHONPATH": ReferenceFixtures.packageRoot.appendingPathComponent("python").path])
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("same 2"), text)
        XCTAssertTrue(text.contains("mixed refused:") && text.contains(b1.codebookFingerprint ?? "?"), text)

        let info = try ToolRunner.run("scan-index", ["info", "--index", tmp + "/b-1-of-2"])
        XCTAssertTrue(info.stdout.contains("codebook fingerprint \(b1.codebookFingerprint ?? "?")"), info.stdout)

        // A manifest naming another codebook than the stored one is a verify problem.
        let lmdb = try LMDBEnvironment.open(path: tmp + "/b-1-of-2")
        let dbs = try IndexDatabases(lmdb, create: false)
        try lmdb.write { txn in
            var m = try dbs.readManifest(txn, path: tmp + "/b-1-of-2")
            m.codebookFingerprint = a1.codebookFingerprint
            try dbs.writeManifest(m, txn)
        }
        let report = try IndexReader(path: tmp + "/b-1-of-2").verify()
        XCTAssertFalse(report.isOK)
        XCTAssertTrue(report.problems.contains { $0.key == "codebook" && $0.reason.contains("codebook_fingerprint \(a1.codebookFingerprint ?? "?")") }, report.summary)
    }

    /// A product-quantised index's records decode only with its codebook: split gives every shard a copy.
    func testSplitOfAProductQuantisedIndexCarriesItsCodebook() throws {
        let whole = try world.index("shards-pq4", model: world.modelFitted, precision: .pq4)
        let tmp = makeTempDir(self)
        let report = try IndexSplitter.split(index: whole, shards: 2, outPrefix: tmp + "/pq")
        XCTAssertEqual(report.paths.count, 2)
        for p in report.paths {
            let verify = try IndexReader(path: p).verify()
            XCTAssertTrue(verify.isOK, "\(p): \(verify.summary)")
            let hits = try Searcher(index: p).search(query: "a dog", top: 3, exact: true)
            XCTAssertEqual(hits.count, 3, p)
        }
    }

}
