import ArgumentParser
import Foundation
import SCANModel

/// Benchmarks that print numbers (never asserted in tests). Each prints the BLAS kernel in use and
/// this machine's sgemm rate measured in the same run, as the yardstick for the rest.
@main
struct ScanBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-bench",
        abstract: "Benchmarks: sgemm yardstick, exact similarity matrix, training step, index.",
        subcommands: [Similarity.self])

    static func main() {
        OpenBLASKernel.ensureFastKernel()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

/// Median GFLOP/s of an (m x k) * (k x n) sgemm over `repeats` runs.
func sgemmRate(m: Int, n: Int, k: Int, repeats: Int = 5) -> Double {
    var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<a.count { a[i] = Float(i % 7) * 0.01 }
    for i in 0..<b.count { b[i] = Float(i % 5) * 0.01 }
    var times: [Double] = []
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        for _ in 0..<repeats {
            let t = now()
            BLAS.sgemm(transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
            times.append(now() - t)
        }
    }}}
    return 2 * Double(m) * Double(n) * Double(k) / median(times) / 1e9
}

/// Caption lengths (tokens incl. <start>/<end>) following Flickr30K: the real test captions when
/// the reference folder is present (whitespace tokens + 2; they are pre-tokenised), else a fixed
/// distribution with the same mean.
func flickrLengths(count: Int, seed: UInt64) -> [Int] {
    var lengths: [Int] = []
    let candidates = [ProcessInfo.processInfo.environment["SCAN_REFERENCE_DIR"], "../shared/fixtures/reference"].compactMap { $0 }
    for dir in candidates {
        if let text = try? String(contentsOfFile: dir + "/test_caps.txt", encoding: .utf8) {
            lengths = text.split(separator: "\n").map { $0.split(separator: " ").count + 2 }
            break
        }
    }
    if lengths.isEmpty { lengths = (0..<count).map { 9 + ($0 * 7919) % 14 } }
    return (0..<count).map { lengths[$0 % lengths.count] }
}

struct Similarity: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exact similarity matrix at Flickr30K shape (1000 x 36 regions x 1024 vs 5000 captions).")

    @Option(help: "Number of images.") var images = 1000
    @Option(help: "Number of captions.") var captions = 5000
    @Option(help: "Regions per image.") var regions = 36
    @Option(help: "Embedding dimension.") var dim = 1024
    @Option(help: "Directions to measure: t2i, i2t or both.") var direction = "both"
    @Option(help: "Aggregation (LogSumExp, Mean, Max, Sum).") var aggFunc = "LogSumExp"

    func run() throws {
        print("OpenBLAS kernel: \(BLAS.coreName), threads: \(BLAS.threadCount), cores: \(Parallel.cores)")
        let peakSquare = sgemmRate(m: 4096, n: 4096, k: 4096, repeats: 3)
        let peakScan = sgemmRate(m: 4608, n: 2048, k: 1024)
        print(String(format: "sgemm 4096^3: %.1f GFLOP/s; SCAN-shaped 4608x2048x1024: %.1f GFLOP/s", peakSquare, peakScan))
        let lengths = flickrLengths(count: captions, seed: 1)
        let meanLen = Double(lengths.reduce(0, +)) / Double(lengths.count)
        var rng = BenchRNG(seed: 3)
        var img = EmbeddingSet(dim: dim)
        for _ in 0..<images {
            var rows = (0..<(regions * dim)).map { _ in rng.uniform() }
            VectorOps.l2normalizeRows(&rows, dim: dim)
            img.append(Tensor(shape: [regions, dim], data: rows))
        }
        var cap = EmbeddingSet(dim: dim)
        for n in lengths {
            var rows = (0..<(n * dim)).map { _ in rng.uniform() - 0.5 }
            VectorOps.l2normalizeRows(&rows, dim: dim)
            cap.append(Tensor(shape: [n, dim], data: rows))
        }
        let flop = 2 * Double(img.totalRows) * Double(cap.totalRows) * Double(dim)
        print(String(format: "%d images x %d regions, %d captions (mean length %.2f tokens, %d words), dim %d: P = %.2f TFLOP",
                     images, regions, captions, meanLen, cap.totalRows, dim, flop / 1e12))
        print("direction | seconds | dot products alone at SCAN-shaped sgemm rate (s) | ratio | effective GFLOP/s")
        let agg = AggFunc(rawValue: aggFunc) ?? .logSumExp
        for dir in direction == "both" ? [CrossAttn.t2i, .i2t] : [CrossAttn(rawValue: direction) ?? .t2i] {
            let att = CrossAttention(direction: dir, rawFeatureNorm: .clippedL2norm, aggFunc: agg, lambdaSoftmax: dir == .t2i ? 9 : 4, lambdaLSE: dir == .t2i ? 6 : 5)
            let scorer = SimilarityScorer(attention: att)
            let t = now()
            let s = scorer.scores(images: img, captions: cap)
            let dt = now() - t
            let ideal = flop / (peakScan * 1e9)
            print(String(format: "%@ %@ | %.2f | %.2f | %.2f | %.1f   (checksum %.4f)", dir.rawValue, agg.rawValue, dt, ideal, dt / ideal, flop / dt / 1e9, s.reduce(0, +) / Float(s.count)))
        }
        print(String(format: "peak resident memory: %.2f GB", Double(peakRSSBytes()) / 1e9))
    }
}

struct BenchRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func uniform() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24)
    }
}

func peakRSSBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
