import Foundation
import SCANCore
import SCANIndex
import SCANModel

/// Throughput of the record codec and the index storage on l2-normalised paper-size regions
/// (36 x 1024, like the image encoder's output): checksum rate, encode/decode per precision and zstd
/// level, append, parallel reads and verify.
public struct CodecBenchmark {
    public var images = 400
    public var rows = 36
    public var dim = 1024

    public init() {}

    public func run(out: (String) -> Void = { print($0) }) throws {
        var rng = SplitMix64(seed: 1)
        let (rows, dim, n) = (self.rows, self.dim, images)
        let images: [Tensor] = (0..<n).map { _ in
            var d = (0..<(rows * dim)).map { _ in rng.uniform(-1, 1) }
            VectorOps.l2normalizeRows(&d, dim: dim)
            return Tensor(shape: [rows, dim], data: d)
        }
        let raw = Double(n * rows * dim * 4)
        func time(_ body: () throws -> Void) rethrows -> Double {
            let t0 = Yardstick.now()
            try body()
            return Yardstick.now() - t0
        }
        var big = [UInt8](repeating: 7, count: 64 << 20)
        big[3] = 1
        let hashT = time { _ = XXH64.hash(big) }
        out(String(format: "XXH64: %.2f GB/s", Double(big.count) / hashT / 1e9))
        for p in Precision.scalar {
            for level in [3, 0] {
                let codec = RecordCodec(precision: p, compressionLevel: level)
                var encoded: [[UInt8]] = []
                let encT = try time { encoded = try images.map { try codec.encodeRegions($0) } }
                let stored = Double(encoded.map(\.count).reduce(0, +))
                var buffer = [Float](repeating: 0, count: rows * dim)
                let decT = try time {
                    for e in encoded {
                        try e.withUnsafeBytes { v in try buffer.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(v, into: $0) } }
                    }
                }
                out(String(format: "%@ zstd %d: %.1f%% of float32 (%.0f B/image), encode %.2f GB/s, decode %.2f GB/s (float32 output, one thread)",
                           p.rawValue, level, 100 * stored / raw, stored / Double(n), raw / encT / 1e9, raw / decT / 1e9))
            }
        }
        // pq4: a codebook trained on a sample of these regions, then records decoded as the re-rank does.
        let sample = images.prefix(50).flatMap(\.data)
        let pq = try ProductQuantizerTrainer().train(sample, rows: 50 * rows, dim: dim, subDim: 4)
        let codec = RecordCodec(precision: .pq4, compressionLevel: 3, codebook: pq)
        var encoded: [[UInt8]] = []
        let encT = try time { encoded = try images.map { try codec.encodeRegions($0) } }
        var buffer = [Float](repeating: 0, count: rows * dim)
        let decT = try time {
            for e in encoded {
                try e.withUnsafeBytes { v in try buffer.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(v, kind: .regions, database: "regions", key: "k", into: $0, codebook: pq) } }
            }
        }
        out(String(format: "pq4 (codebook of 50 images): %.1f%% of float32 (%.0f B/image), encode %.2f GB/s, decode %.2f GB/s (float32 output, one thread)",
                   100 * Double(encoded.map(\.count).reduce(0, +)) / raw, Double(encoded.map(\.count).reduce(0, +)) / Double(n), raw / encT / 1e9, raw / decT / 1e9))
        let dir = NSTemporaryDirectory() + "scan-codec-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try IndexWriter(path: dir, configuration: IndexWriter.Configuration(
            modelFingerprint: "bench", modelName: "bench", embedDim: dim, imgDim: 2048))
        let records = images.enumerated().map { i, t in ImageRecord(id: "im\(i)", source: "bench", regions: t, prefilter: Array(t.data[0..<dim])) }
        let appendT = try time { for b in stride(from: 0, to: n, by: 100) { try w.append(Array(records[b..<min(n, b + 100)])) } }
        try w.markComplete()
        out(String(format: "append: %.0f images/s (batches of 100, float16, zstd 3)", Double(n) / appendT))
        let r = try IndexReader(path: dir)
        let readT = try time { _ = try r.withSnapshot { s in try s.regions((0..<UInt64(n)).map { $0 }) } }
        out(String(format: "parallel region reads: %.0f images/s, %.2f GB/s of float32", Double(n) / readT, raw / readT / 1e9))
        var ok = false
        let verifyT = try time { ok = try r.verify().isOK }
        out(String(format: "verify: %.0f images/s (%@)", Double(n) / verifyT, ok ? "all records intact" : "PROBLEMS FOUND"))
    }
}
