import Foundation
import SCANModel
import SCANSearch
import TestSupport
import XCTest

/// The product-quantisation region codec: nearest-centroid assignment, codebook training, the
/// checksummed record and its typed errors, and indexes built, verified and searched with it.
final class ProductQuantizationTests: XCTestCase {
    var world: SearchWorld { SearchWorld.shared }

    /// dim 4 in two sub-spaces of 2 dims, three centroids each; the expected codes are worked out by hand.
    func testAssignmentPicksTheNearestCentroidWorkedByHand() throws {
        // Sub-space 0 centroids: (0,0), (1,0), (0,2); sub-space 1: (5,5), (-1,-1), (3,0).
        let cb: [Float] = [0, 0, 1, 0, 0, 2,
                           5, 5, -1, -1, 3, 0]
        let pq = try ProductQuantizer(dim: 4, subDim: 2, centroidCount: 3, centroids: cb)
        // Row 0: (0.9, 0.2) -> (1,0) [d2 0.05 vs 0.85, 3.25]; (2.5, 0.4) -> (3,0) [0.41 vs 27.41, 13.21].
        // Row 1: (0.1, 1.4) -> (0,2) [0.37 vs 1.97, 2.77]; (-0.2, -3) -> (-1,-1) [4.64 vs 77.44, 19.24].
        let x: [Float] = [0.9, 0.2, 2.5, 0.4,
                          0.1, 1.4, -0.2, -3]
        var codes = [UInt8](repeating: 9, count: 4)
        x.withUnsafeBufferPointer { xp in codes.withUnsafeMutableBufferPointer { pq.encode(xp.baseAddress!, rows: 2, into: $0.baseAddress!) } }
        XCTAssertEqual(codes, [1, 2, 2, 1])
        var y = [Float](repeating: 0, count: 8)
        let ok = codes.withUnsafeBufferPointer { c in y.withUnsafeMutableBufferPointer { pq.decode(c.baseAddress!, rows: 2, into: $0.baseAddress!) } }
        XCTAssertTrue(ok)
        XCTAssertEqual(y, [1, 0, 3, 0, 0, 2, -1, -1])
    }

    /// Points scattered tightly around 4 centres per sub-space: k-means with 4 centroids finds the
    /// centres, so every reconstruction is within the scatter of its point.
    func testTrainingFindsSeparatedClusters() throws {
        var rng = TestRNG(seed: 3)
        let dim = 8, sub = 4, rows = 400
        let centres = (0..<(2 * 4 * sub)).map { _ in rng.float() * 10 }
        var x = [Float](repeating: 0, count: rows * dim)
        for r in 0..<rows {
            for s in 0..<2 {
                let k = rng.int(0..<4)
                for j in 0..<sub { x[r * dim + s * sub + j] = centres[(s * 4 + k) * sub + j] + rng.float() * 0.01 }
            }
        }
        var trainer = ProductQuantizerTrainer()
        trainer.centroids = 4
        trainer.iterations = 10
        // Several seeds: an unlucky start (two seeds in one cluster) must be repaired by the iterations or not happen.
        let pq = try trainer.train(x, rows: rows, dim: dim, subDim: sub)
        XCTAssertEqual(pq.centroidCount, 4)
        var codes = [UInt8](repeating: 0, count: rows * 2)
        var y = [Float](repeating: 0, count: rows * dim)
        x.withUnsafeBufferPointer { xp in codes.withUnsafeMutableBufferPointer { pq.encode(xp.baseAddress!, rows: rows, into: $0.baseAddress!) } }
        _ = codes.withUnsafeBufferPointer { c in y.withUnsafeMutableBufferPointer { pq.decode(c.baseAddress!, rows: rows, into: $0.baseAddress!) } }
        let maxErr = zip(x, y).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(maxErr, 0.02)
        // Fewer sample rows than centroids: the codebook shrinks to the rows (each its own centroid).
        let small = try ProductQuantizerTrainer().train(Array(x.prefix(3 * dim)), rows: 3, dim: dim, subDim: sub)
        XCTAssertEqual(small.centroidCount, 3)
    }

    func testRecordRoundTripChecksumAndTypedErrors() throws {
        var rng = TestRNG(seed: 5)
        let dim = 16
        let samples = rng.floats(300 * dim)
        var trainer = ProductQuantizerTrainer()
        trainer.iterations = 4
        let pq = try trainer.train(samples, rows: 300, dim: dim, subDim: 8)
        let x = Tensor(shape: [5, dim], data: Array(samples.prefix(5 * dim)))
        let codec = RecordCodec(precision: .pq8, compressionLevel: 3, codebook: pq)
        let bytes = try codec.encodeRegions(x, record: "r")
        let h = try bytes.withUnsafeBytes { try RecordCodec.header(of: $0) }
        XCTAssertEqual(h.precision, .pq8)
        XCTAssertEqual(h.payloadBytes, 5 * 2)
        // Decoding gives the nearest centroids, which the codebook's own decode of the codes gives too.
        let y = try RecordCodec.decodeRegions(bytes, key: "r", codebook: pq)
        var codes = [UInt8](repeating: 0, count: 10)
        x.data.withUnsafeBufferPointer { xp in codes.withUnsafeMutableBufferPointer { pq.encode(xp.baseAddress!, rows: 5, into: $0.baseAddress!) } }
        var expected = [Float](repeating: 0, count: 5 * dim)
        _ = codes.withUnsafeBufferPointer { c in expected.withUnsafeMutableBufferPointer { pq.decode(c.baseAddress!, rows: 5, into: $0.baseAddress!) } }
        XCTAssertEqual(y.data, expected)
        // Brute force: each sub-vector's code is its nearest centroid.
        for r in 0..<5 {
            for s in 0..<2 {
                let d2 = (0..<pq.centroidCount).map { k in (0..<8).reduce(Float(0)) { $0 + pow(x.data[r * dim + s * 8 + $1] - pq.centroids[(s * pq.centroidCount + k) * 8 + $1], 2) } }
                XCTAssertEqual(Int(codes[r * 2 + s]), d2.indices.min { d2[$0] < d2[$1] }!)
            }
        }
        // Every flipped byte is a corrupt record.
        for pos in 0..<bytes.count {
            var bad = bytes
            bad[pos] ^= 0x01
            XCTAssertThrows(IndexError.self, try RecordCodec.decodeRegions(bad, key: "7", codebook: pq), "byte \(pos)") {
                if case let .corruptRecord(db, key, _) = $0 { return db == "regions" && key == "7" }; return false
            }
        }
        // No codebook, another codebook's shape, codes beyond a smaller codebook: typed errors, nothing returned.
        XCTAssertThrows(IndexError.self, try RecordCodec.decodeRegions(bytes, key: "7")) {
            if case let .corruptRecord(_, _, reason) = $0 { return reason.contains("no codebook") }; return false
        }
        let other = try trainer.train(samples, rows: 300, dim: dim, subDim: 4)
        XCTAssertThrows(IndexError.self, try RecordCodec.decodeRegions(bytes, key: "7", codebook: other)) {
            if case let .corruptRecord(_, _, reason) = $0 { return reason.contains("sub_dim 4") }; return false
        }
        let tiny = try ProductQuantizer(dim: dim, subDim: 8, centroidCount: 1, centroids: [Float](repeating: 0, count: dim))
        if codes.contains(where: { $0 > 0 }) {
            XCTAssertThrows(IndexError.self, try RecordCodec.decodeRegions(bytes, key: "7", codebook: tiny)) {
                if case let .corruptRecord(_, _, reason) = $0 { return reason.contains("beyond the codebook") }; return false
            }
        }
        // Encoding needs a codebook of the right shape; prefilter vectors cannot be product-quantised.
        XCTAssertThrows(IndexError.self, try RecordCodec(precision: .pq8).encodeRegions(x)) { if case .invalidRecord = $0 { return true }; return false }
        XCTAssertThrows(IndexError.self, try RecordCodec(precision: .pq4, codebook: pq).encodeRegions(x)) { if case .invalidRecord = $0 { return true }; return false }
        XCTAssertThrows(IndexError.self, try codec.encodeVector([1, 2])) { if case .invalidRecord = $0 { return true }; return false }
        // The codebook's own record round-trips and is checksummed.
        let stored = try pq.record()
        XCTAssertEqual(try stored.withUnsafeBytes { try ProductQuantizer.decode($0, dim: dim, database: "manifest", key: "codebook") }, pq)
        var flipped = stored
        flipped[RecordHeader.size + 5] ^= 0x40
        XCTAssertThrows(IndexError.self, try flipped.withUnsafeBytes { try ProductQuantizer.decode($0, dim: dim, database: "manifest", key: "codebook") }) {
            if case .corruptRecord = $0 { return true }; return false
        }
    }

    /// A pq index of the test world: the codebook is trained at build time and stored, verify
    /// decodes every record with it, two-stage search answers, and a damaged codebook is reported by
    /// verify and stops searches with a typed error instead of wrong results.
    func testProductQuantizedIndexBuildsVerifiesSearchesAndDetectsADamagedCodebook() throws {
        let f16 = try Searcher(index: try world.index("fitted-float16", model: world.modelFitted, precision: .float16))
        let shared = try world.index("fitted-pq4", model: world.modelFitted, precision: .pq4)
        let report = try IndexReader(path: shared).verify()
        XCTAssertTrue(report.isOK, report.summary)
        XCTAssertEqual(report.manifest.precision, .pq4)
        let info = try IndexInfo(index: shared)
        // 4 regions x 16 dims: 4 x 4 code bytes + the 32-byte header (codes are not worth compressing).
        XCTAssertEqual(info.valueBytes["regions"], 400 * (32 + 16))
        let pqSearch = try Searcher(index: shared)
        var overlap = 0
        let queries = try world.queries()
        for q in queries.prefix(50) {
            let a = try pqSearch.search(query: q.caption, top: 10)
            let b = try f16.search(query: q.caption, top: 10, exact: true)
            overlap += Set(a.map(\.id)).intersection(b.map(\.id)).count
            XCTAssertEqual(a.count, 10)
        }
        print("pq4 two-stage vs float16 exact, top-10 overlap on 50 queries: \(overlap) / 500")
        XCTAssertGreaterThan(overlap, 250, "a 4:1 codebook of 16-dim regions should keep most of the top 10")

        let dir = makeTempDir(self) + "/index"
        try FileManager.default.copyItem(atPath: shared, toPath: dir)
        try? FileManager.default.removeItem(atPath: dir + "/writer.lock")
        do {
            let env = try LMDBEnvironment.open(path: dir)
            let dbs = try IndexDatabases(env, create: false)
            var value = try env.read { Array(try XCTUnwrap(try $0.get(dbs.manifest, key: IndexDatabases.codebookKey))) }
            value[RecordHeader.size + 17] ^= 0x08
            try env.write { try $0.put(dbs.manifest, key: IndexDatabases.codebookKey, value: value) }
        }
        let damaged = try IndexReader(path: dir).verify()
        XCTAssertFalse(damaged.isOK)
        XCTAssertTrue(damaged.problems.contains { $0.database == "manifest" && $0.key == "codebook" && $0.reason.contains("checksum") }, damaged.summary)
        let cli = try ToolRunner.run("scan-index", ["verify", "--index", dir], in: makeTempDir(self))
        XCTAssertEqual(cli.status, 1)
        XCTAssertTrue(cli.stdout.contains("codebook"), cli.stdout)
        XCTAssertThrowsError(try Searcher(index: dir).search(query: queries[0].caption, top: 5)) {
            XCTAssertTrue("\($0)".contains("codebook") || "\($0)".contains("checksum"), "\($0)")
        }
    }

    /// The reliability properties on the new codec: a pq build killed with SIGKILL resumes to the
    /// full count with the codebook it stored first, and a search during `add` reads consistent snapshots.
    func testPQBuildKilledWithSIGKILLResumesAndAddKeepsTheCodebook() throws {
        let tmp = makeTempDir(self)
        let base = try NPY.read(world.testImages)
        let per = base.rowStride
        let n = 3000
        var t = Tensor(zeros: [n, base.shape[1], base.shape[2]])
        for i in 0..<n { for k in 0..<per { t.data[i * per + k] = base.data[(i % base.shape[0]) * per + k] * (1 + Float(i / base.shape[0]) * 0.01) } }
        try NPY.write(t, to: tmp + "/big_ims.npy")
        let index = tmp + "/index"
        let args = ["build", "--model", world.modelFitted, "--features", tmp + "/big_ims.npy", "--index", index,
                    "--batch-size", "10", "--quiet", "--precision", "pq8"]
        let (process, finish) = try ToolRunner.start("scan-index", args, in: tmp)
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            if FileManager.default.fileExists(atPath: index + "/data.mdb"),
               let m = try? IndexReader(path: index, allowIncomplete: true).manifest, m.imageCount >= 100 { break }
            usleep(2000)
        }
        XCTAssertTrue(process.isRunning, "the build ended before it could be killed: \(finish().stderr)")
        kill(process.processIdentifier, SIGKILL)
        XCTAssertEqual(finish().status, SIGKILL)
        let partial = try IndexReader(path: index, allowIncomplete: true).verify()
        XCTAssertTrue(partial.isOK, partial.summary)
        XCTAssertLessThan(partial.manifest.imageCount, n)
        let codebook = try IndexReader(path: index, allowIncomplete: true).withSnapshot { try XCTUnwrap(try $0.codebook()) }
        let resumed = try ToolRunner.run("scan-index", args, in: tmp)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let full = try IndexReader(path: index).verify()
        XCTAssertTrue(full.isOK, full.summary)
        XCTAssertEqual(full.manifest.imageCount, n)
        XCTAssertEqual(try IndexReader(path: index).withSnapshot { try $0.codebook() }, codebook, "the resumed build kept the first codebook")
    }
}
