import CSCANKernels
import Foundation
import SCANBenchmarks
import SCANIndex
@testable import SCANSearch
import TestSupport
import XCTest

/// The compact first stage: 4-bit codes, the rescored shortlist, recall of the float32 prefilter's
/// top K, and images committed later becoming searchable without a rebuild.
final class CompactPrefilterTests: XCTestCase {
    /// Codes worked by hand: dim 3 (padded to 4: two bytes), ranges from the 0.1%/99.9% quantiles.
    func testCodesAreUniformPerDimensionAndClamped() {
        let cp = CompactPrefilter(dim: 3)
        // Dimension 0 spans 0...1.5 over the rows, dimension 1 spans -3...0, dimension 2 is constant.
        var rows: [Float] = []
        for i in 0...15 { rows += [Float(i) * 0.1, -Float(i) * 0.2, 7] }
        cp.append(rows: rows)
        XCTAssertEqual(cp.count, 16)
        XCTAssertEqual(cp.bytesPerImage, 2)
        // Row i: dim0 code i, dim1 code 15 - i, dim2 code 0. The query (1, 0, 0) orders rows by dim 0;
        // (0, 1, 0) by dim 1 (row 0 first); scores are exactly proportional to the codes.
        let a = cp.approximateScores([1, 0, 0], rows: 16)
        XCTAssertEqual(a.indices.sorted { a[$0] > a[$1] }, Array((0...15).reversed()))
        XCTAssertEqual(a[15] / a[1], 15, accuracy: 1e-3)
        let b = cp.approximateScores([0, 1, 0], rows: 16)
        XCTAssertEqual(b.indices.sorted { b[$0] > b[$1] }, Array(0...15))
        // A value beyond the calibrated range is clamped to the last code.
        cp.append(rows: [100, -100, 7])
        let c = cp.approximateScores([1, 0, 0], rows: 17)
        XCTAssertEqual(c[16], c[15])
    }

    /// 20,000 generated unit vectors of dim 256 stored in an index: the compact first stage's K best
    /// hold at least 99% of the float32 scan's K best, with the float32 scores.
    func testRecallOfTheFloat32TopKAndExactScores() throws {
        let dir = makeTempDir(self)
        let (x, queries) = FirstStageBenchmark.generate(size: 20_000, dim: 256, queries: 30, seed: 3)
        try FirstStageBenchmark.write(x, dim: 256, to: dir + "/index")
        let reader = try IndexReader(path: dir + "/index")
        let s = try reader.snapshot()
        defer { s.close() }
        let cp = CompactPrefilter(dim: 256)
        try cp.extend(from: s)
        XCTAssertEqual(cp.count, 20_000)
        XCTAssertEqual(cp.residentBytes, 20_000 * 128)
        let f32 = ResidentPrefilter(dim: 256, storage: .float32)
        try f32.extend(from: s)
        for k in [100, 1000] {
            var found = 0
            for q in queries {
                let full = f32.scores(q, rows: 20_000)
                let truth = Set(TopK.select(full, k: k).map { UInt64($0) })
                let got = try cp.candidates(q, k: k, snapshot: s)
                XCTAssertEqual(got.keys.count, k)
                for (key, score) in zip(got.keys, got.scores) { XCTAssertEqual(score, full[Int(key)]) }
                found += truth.intersection(got.keys).count
            }
            let recall = Double(found) / Double(k * queries.count)
            print(String(format: "compact first stage, 20000 x 256, K = %d: recall of the float32 top K %.4f", k, recall))
            XCTAssertGreaterThanOrEqual(recall, 0.99)
        }
    }

    /// Images committed after the searcher opened are found by the next search (no rebuild), and
    /// the compact first stage finds what the float32 one finds on the search world.
    func testCommittedImagesAreSearchableAtTheNextCommit() throws {
        let world = SearchWorld.shared
        let tmp = makeTempDir(self)
        let all = try NPY.read(world.testImages)
        let per = all.rowStride
        try NPY.write(Tensor(shape: [100] + Array(all.shape.dropFirst()), data: Array(all.data[0..<(100 * per)])), to: tmp + "/a_ims.npy")
        try NPY.write(Tensor(shape: [300] + Array(all.shape.dropFirst()), data: Array(all.data[(100 * per)...])), to: tmp + "/b_ims.npy")
        try ((100..<400).map { "\($0)" }.joined(separator: "\n") + "\n").write(toFile: tmp + "/b_ids.txt", atomically: true, encoding: .utf8)
        var o = BuildOptions(); o.showProgress = false
        _ = try IndexBuilder.build(index: tmp + "/index", modelDirectory: world.modelFitted, source: try PrecompFeatureSource(imagesPath: tmp + "/a_ims.npy"), options: o)
        let compact = try Searcher(index: tmp + "/index")
        XCTAssertEqual(compact.firstStage, .compact)
        XCTAssertEqual(compact.firstStageCount, 100)
        _ = try IndexBuilder.add(index: tmp + "/index", source: try PrecompFeatureSource(imagesPath: tmp + "/b_ims.npy", idsPath: tmp + "/b_ids.txt"), options: o)
        let float32 = try Searcher(index: tmp + "/index", firstStage: .float32)
        for q in try world.queries().prefix(40) {
            let a = try compact.search(query: q.caption, top: 10, candidates: 20)
            let b = try float32.search(query: q.caption, top: 10, candidates: 20)
            XCTAssertEqual(a.map(\.id), b.map(\.id), q.caption)
            XCTAssertEqual(a.map(\.prefilterScore), b.map(\.prefilterScore))
        }
        XCTAssertEqual(compact.firstStageCount, 400)
        XCTAssertEqual(compact.firstStageBytesPerImage, 8)
    }

    /// Rows appended in pieces (part-filled tail blocks, segments merged or kept apart) score exactly
    /// as the same rows appended at once, with every kernel build.
    func testPiecesAndPartialBlocksScoreAsOneSegment() throws {
        var rng = TestRNG(seed: 4)
        let dim = 40, n = 1000
        var x = rng.floats(n * dim)
        VectorOps.l2normalizeRows(&x, dim: dim)
        let whole = CompactPrefilter(dim: dim)
        whole.append(rows: Array(x[0..<(100 * dim)]))
        whole.append(rows: Array(x[(100 * dim)...]))
        let q = Array(x[(7 * dim)..<(8 * dim)])
        let expected = whole.approximateScores(q, rows: n)
        for mergeBelow in [0, 65_536] {
            let pieces = CompactPrefilter(dim: dim)
            pieces.mergeBelow = mergeBelow
            var at = 0
            for size in [100, 37, 5, 1, 64, 300, 493] {
                pieces.append(rows: Array(x[(at * dim)..<((at + size) * dim)]))
                at += size
                XCTAssertEqual(pieces.approximateScores(q, rows: at), Array(expected[0..<at]), "merge below \(mergeBelow), \(at) rows")
            }
            XCTAssertEqual(pieces.segmentCount, mergeBelow == 0 ? 7 : 1)
            for isa in [Int32(SCAN_FS_SCALAR), Int32(SCAN_FS_AVX2), Int32(SCAN_FS_AVX512BW)] where scan_fs_isa_supported(isa) == 1 {
                pieces.kernel = isa
                XCTAssertEqual(pieces.approximateScores(q, rows: n), expected, "build \(isa)")
            }
        }
    }

    /// An index committed in three parts: each commit's images are searchable after `extend` with no
    /// rebuild (the ranges stay those of the first load), deleted keys are never returned even when
    /// they are the float32 best, and the shortlist is the same for every kernel build and thread count.
    func testCommitsAppendSegmentsAndDeletedKeysAreExcluded() throws {
        let dir = makeTempDir(self)
        let (x, queries) = FirstStageBenchmark.generate(size: 9000, dim: 256, queries: 10, seed: 5)
        let p = 256
        let cp = CompactPrefilter(dim: p)
        cp.calibrationRows = 2000
        cp.mergeBelow = 3000
        let f32 = ResidentPrefilter(dim: p, storage: .float32)
        for (lo, hi) in [(0, 2500), (2500, 2517), (2517, 9000)] {
            try FirstStageBenchmark.write(Array(x[(lo * p)..<(hi * p)]), dim: p, to: dir + "/index", firstID: lo)
            let reader = try IndexReader(path: dir + "/index")
            let s = try reader.snapshot()
            defer { s.close() }
            XCTAssertEqual(s.count, hi)
            try cp.extend(from: s)
            try f32.extend(from: s)
            XCTAssertEqual(cp.count, hi)
            for q in queries.prefix(3) {
                let full = f32.scores(q, rows: hi)
                let truth = TopK.select(full, k: 100).map { UInt64($0) }
                // The newest commit's best image is found.
                let got = try cp.candidates(q, k: 100, snapshot: s)
                XCTAssertGreaterThanOrEqual(Set(truth).intersection(got.keys).count, 99)
                // Exclude the 30 best and every 7th key: none comes back, and the rest of the float top K does.
                var excluded = Set(truth.prefix(30))
                for k in stride(from: 0, to: hi, by: 7) { excluded.insert(UInt64(k)) }
                let masked = full.indices.map { excluded.contains(UInt64($0)) ? -Float.infinity : full[$0] }
                let truthKept = Set(TopK.select(masked, k: 100).map { UInt64($0) })
                var shortlists: [[UInt64]] = []
                for (isa, threads) in [(scan_fs_best_isa(), 2), (Int32(SCAN_FS_SCALAR), 1), (Int32(SCAN_FS_AVX2), 2)] where scan_fs_isa_supported(isa) == 1 {
                    cp.kernel = isa
                    cp.threads = threads
                    let r = try cp.candidates(q, k: 100, snapshot: s, excluding: excluded)
                    XCTAssertTrue(excluded.isDisjoint(with: r.keys))
                    XCTAssertGreaterThanOrEqual(truthKept.intersection(r.keys).count, 99)
                    shortlists.append(r.keys)
                }
                XCTAssertEqual(Set(shortlists.map { $0.description }).count, 1, "every build and thread count finds the same candidates")
                cp.kernel = scan_fs_best_isa()
                cp.threads = Parallel.cores
            }
        }
        // 2500 (first load, calibrated) then 17 merged into it, then 6483 merged too (2517 < 3000).
        XCTAssertEqual(cp.segmentCount, 1)
    }

    /// The shortlist is rescored from the prefilter blocks, split over threads for long shortlists;
    /// a damaged block row, or blocks missing (an index written without them), cost speed only:
    /// those keys are read from their own records and every score stays the float32 one.
    func testRescoringFromBlocksFallsBackToRecords() throws {
        let dir = makeTempDir(self)
        let p = 256, n = 5000
        let (x, _) = FirstStageBenchmark.generate(size: n, dim: p, queries: 1, seed: 11)
        try FirstStageBenchmark.write(x, dim: p, to: dir + "/index")
        // Queries that are stored vectors: each one's own key is its best image.
        let victims = [394, 1000, 4999]
        let queries = victims.map { Array(x[($0 * p)..<(($0 + 1) * p)]) }
        func check(_ label: String) throws {
            let reader = try IndexReader(path: dir + "/index")
            let s = try reader.snapshot()
            defer { s.close() }
            let cp = CompactPrefilter(dim: p)
            try cp.extend(from: s)
            let f32 = ResidentPrefilter(dim: p, storage: .float32)
            try f32.extend(from: s)
            for (v, q) in zip(victims, queries) {
                let full = f32.scores(q, rows: n)
                let got = try cp.candidates(q, k: 600, snapshot: s)
                XCTAssertEqual(got.keys.first, UInt64(v), label)
                for (key, score) in zip(got.keys, got.scores) { XCTAssertEqual(score, full[Int(key)], "\(label): key \(key)") }
            }
        }
        try check("intact blocks")
        let env = try LMDBEnvironment.open(path: dir + "/index")
        let blocks = try XCTUnwrap(try IndexDatabases(env, create: false).prefilterBlocks)
        let stride = RecordHeader.size + 2 * p
        try env.write { txn in
            var b3 = Array(try XCTUnwrap(try txn.get(blocks, key: IndexKey.encode(3))))
            b3[(394 - 384) * stride + RecordHeader.size + 7] ^= 0x08
            try txn.put(blocks, key: IndexKey.encode(3), value: b3)
            for b in 7..<40 { XCTAssertTrue(try txn.delete(blocks, key: IndexKey.encode(UInt64(b)))) }
        }
        try check("a flipped row and blocks 7 to 39 missing")
        XCTAssertTrue(try IndexReader(path: dir + "/index").verify().problems.contains { $0.database == "prefilter_blocks" })
    }
}
