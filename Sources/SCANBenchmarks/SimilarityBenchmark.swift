import CSCANKernels
import Foundation
import SCANModel

/// The exact similarity matrix at Flickr30K shape (1000 images x 36 regions x 1024 dims against 5000
/// captions of real Flickr30K lengths), t2i and/or i2t, against the sgemm yardstick of the same run;
/// optionally COCO 5K measured on a slice of images and extrapolated.
public struct SimilarityBenchmark {
    public var images = 1000
    public var captions = 5000
    public var regions = 36
    public var dim = 1024
    /// "t2i", "i2t" or "both".
    public var direction = "both"
    public var aggFunc = "LogSumExp"
    /// COCO 5K on a slice of this many images, extrapolated (0: skip).
    public var cocoSliceImages = 0

    public init() {}

    public func run(out: (String) -> Void = { print($0) }) {
        out("OpenBLAS kernel: \(BLAS.coreName), threads: \(BLAS.threadCount), cores: \(Parallel.cores), attention kernel build: \(scan_vector_build() == 1 ? "AVX2+FMA" : "baseline")")
        let peakSquare = Yardstick.sgemmRate(m: 4096, n: 4096, k: 4096, repeats: 3)
        let peakScan = Yardstick.sgemmRate(m: 4608, n: 2048, k: 1024)
        out(String(format: "sgemm 4096^3: %.1f GFLOP/s; SCAN-shaped 4608x2048x1024: %.1f GFLOP/s", peakSquare, peakScan))
        let lengths = CaptionLengths.flickr30k(count: captions, seed: 1)
        let img = benchImages(count: images, seed: 3)
        let cap = benchCaptions(lengths: lengths, seed: 4)
        out(String(format: "%d images x %d regions, %d captions (mean length %.2f tokens, %d words), dim %d: P = %.2f TFLOP",
                     images, regions, captions, meanLength(lengths), cap.totalRows, dim, pFLOP(img, cap) / 1e12))
        out("direction | seconds | dot products alone at SCAN-shaped sgemm rate (s) | ratio | effective GFLOP/s")
        for dir in directions {
            let (dt, checksum) = time(dir, img, cap)
            let ideal = pFLOP(img, cap) / (peakScan * 1e9)
            out(String(format: "%@ %@ | %.2f | %.2f | %.2f | %.1f   (checksum %.4f)", dir.rawValue, aggFunc, dt, ideal, dt / ideal, pFLOP(img, cap) / dt / 1e9, checksum))
        }
        if cocoSliceImages > 0 {
            // COCO's test captions are not in the fixtures: lengths drawn with COCO's mean of about
            // 10.5 words (+ <start>/<end>), which is what the product's size depends on.
            let cocoLengths = (0..<25_000).map { 9 + ($0 * 7919) % 8 }
            let slice = benchImages(count: cocoSliceImages, seed: 5)
            let cocoCaps = benchCaptions(lengths: cocoLengths, seed: 6)
            let factor = 5000.0 / Double(cocoSliceImages)
            out(String(format: "COCO 5K: 5000 images x 25000 captions (mean length %.2f tokens), measured on %d images x 25000 captions, x %.1f:",
                         meanLength(cocoLengths), cocoSliceImages, factor))
            out("direction | slice seconds | slice ratio | COCO 5K seconds (extrapolated)")
            for dir in directions {
                let (dt, _) = time(dir, slice, cocoCaps)
                let ideal = pFLOP(slice, cocoCaps) / (peakScan * 1e9)
                out(String(format: "%@ %@ | %.2f | %.2f | %.0f", dir.rawValue, aggFunc, dt, dt / ideal, dt * factor))
            }
        }
        out(String(format: "peak resident memory: %.2f GB", Double(Yardstick.peakRSSBytes()) / 1e9))
    }

    var directions: [CrossAttn] { direction == "both" ? [.t2i, .i2t] : [CrossAttn(rawValue: direction) ?? .t2i] }

    func meanLength(_ lengths: [Int]) -> Double { Double(lengths.reduce(0, +)) / Double(lengths.count) }

    func pFLOP(_ img: EmbeddingSet, _ cap: EmbeddingSet) -> Double { 2 * Double(img.totalRows) * Double(cap.totalRows) * Double(dim) }

    /// Seconds for the exact matrix in one direction (the paper's lambdas), and a checksum of it.
    func time(_ dir: CrossAttn, _ img: EmbeddingSet, _ cap: EmbeddingSet) -> (Double, Float) {
        let agg = AggFunc(rawValue: aggFunc) ?? .logSumExp
        let att = CrossAttention(direction: dir, rawFeatureNorm: .clippedL2norm, aggFunc: agg, lambdaSoftmax: dir == .t2i ? 9 : 4, lambdaLSE: dir == .t2i ? 6 : 5)
        let t = Yardstick.now()
        let s = SimilarityScorer(attention: att).scores(images: img, captions: cap)
        return (Yardstick.now() - t, s.reduce(0, +) / Float(s.count))
    }

    func benchImages(count: Int, seed: UInt64) -> EmbeddingSet {
        var rng = SplitMix64(seed: seed)
        var set = EmbeddingSet(dim: dim)
        for _ in 0..<count {
            var rows = (0..<(regions * dim)).map { _ in rng.uniform() }
            VectorOps.l2normalizeRows(&rows, dim: dim)
            set.append(Tensor(shape: [regions, dim], data: rows))
        }
        return set
    }

    func benchCaptions(lengths: [Int], seed: UInt64) -> EmbeddingSet {
        var rng = SplitMix64(seed: seed)
        var set = EmbeddingSet(dim: dim)
        for n in lengths {
            var rows = (0..<(n * dim)).map { _ in rng.uniform() - 0.5 }
            VectorOps.l2normalizeRows(&rows, dim: dim)
            set.append(Tensor(shape: [n, dim], data: rows))
        }
        return set
    }
}
