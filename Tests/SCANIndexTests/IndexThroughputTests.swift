import Foundation
import SCANCore
import SCANIndex
import XCTest

/// Prints codec and index throughput. Skipped unless SCAN_INDEX_BENCH is set (numbers only mean
/// something in a release build: `swift test -c release --filter IndexThroughputTests`).
final class IndexThroughputTests: XCTestCase {
    func testThroughput() throws {
        guard ProcessInfo.processInfo.environment["SCAN_INDEX_BENCH"] != nil else { throw XCTSkip("set SCAN_INDEX_BENCH=1 to run") }
        var rng = TestRNG(seed: 1)
        let rows = 36, dim = 1024, n = 400
        // l2-normalised rows, like the image encoder's output.
        let images: [Tensor] = (0..<n).map { _ in
            var d = rng.floats(rows * dim)
            for r in 0..<rows {
                var sq: Float = 0
                for j in 0..<dim { sq += d[r * dim + j] * d[r * dim + j] }
                let norm = sq.squareRoot()
                for j in 0..<dim { d[r * dim + j] /= norm }
            }
            return Tensor(shape: [rows, dim], data: d)
        }
        let raw = Double(n * rows * dim * 4)
        func time(_ body: () throws -> Void) rethrows -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        var big = [UInt8](repeating: 7, count: 64 << 20)
        big[3] = 1
        let crcT = time { _ = XXH64.hash(big) }
        print(String(format: "XXH64: %.2f GB/s", Double(big.count) / crcT / 1e9))
        for p in Precision.scalar {
            for level in [3, 0] {
                let codec = RecordCodec(precision: p, compressionLevel: level)
                var encoded: [[UInt8]] = []
                let encT = try time { encoded = try images.map { try codec.encodeRegions($0) } }
                let stored = Double(encoded.map(\.count).reduce(0, +))
                var out = [Float](repeating: 0, count: rows * dim)
                let decT = try time {
                    for e in encoded {
                        try e.withUnsafeBytes { v in try out.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(v, into: $0) } }
                    }
                }
                print(String(format: "%@ zstd %d: %.1f%% of float32, encode %.2f GB/s, decode %.2f GB/s (float32 output, one thread)",
                             p.rawValue, level, 100 * stored / raw, raw / encT / 1e9, raw / decT / 1e9))
            }
        }
        let dir = makeTempDir(self)
        let w = try IndexWriter(path: dir, configuration: IndexWriter.Configuration(
            modelFingerprint: "bench", modelName: "bench", embedDim: dim, imgDim: 2048))
        let records = images.enumerated().map { i, t in ImageRecord(id: "im\(i)", source: "bench", regions: t, prefilter: Array(t.data[0..<dim])) }
        let appendT = try time { for b in stride(from: 0, to: n, by: 100) { try w.append(Array(records[b..<(b + 100)])) } }
        try w.markComplete()
        print(String(format: "append: %.0f images/s (batches of 100, float16, zstd 3)", Double(n) / appendT))
        let r = try IndexReader(path: dir)
        let readT = try time { _ = try r.withSnapshot { s in try s.regions((0..<UInt64(n)).map { $0 }) } }
        print(String(format: "parallel region reads: %.0f images/s, %.2f GB/s of float32", Double(n) / readT, raw / readT / 1e9))
        let verifyT = try time { XCTAssertTrue(try r.verify().isOK) }
        print(String(format: "verify: %.0f images/s", Double(n) / verifyT))
    }
}
