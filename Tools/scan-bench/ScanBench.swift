import ArgumentParser
import SCANCommandLine
import Foundation
import CSCANKernels
import SCANModel
import SCANSearch
import SCANTraining

/// Benchmarks that print numbers (never asserted in tests). Each prints the BLAS kernel in use and
/// this machine's sgemm rate measured in the same run, as the yardstick for the rest.
@main
struct ScanBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-bench",
        abstract: "Benchmarks: sgemm yardstick, exact similarity matrix, training step, index.",
        subcommands: [Similarity.self, TrainBench.self, IndexBench.self, Retention.self, CodecBench.self, FirstStageBench.self, PackedGemmBench.self])

    static func main() { runWithFastBLAS() }
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
    @Option(help: "Also time COCO 5K (5000 images x 25000 captions) on a slice of this many images and extrapolate (0: skip).")
    var cocoSliceImages = 0

    func run() throws {
        print("OpenBLAS kernel: \(BLAS.coreName), threads: \(BLAS.threadCount), cores: \(Parallel.cores), attention kernel build: \(scan_vector_build() == 1 ? "AVX2+FMA" : "baseline")")
        let peakSquare = sgemmRate(m: 4096, n: 4096, k: 4096, repeats: 3)
        let peakScan = sgemmRate(m: 4608, n: 2048, k: 1024)
        print(String(format: "sgemm 4096^3: %.1f GFLOP/s; SCAN-shaped 4608x2048x1024: %.1f GFLOP/s", peakSquare, peakScan))
        let lengths = flickrLengths(count: captions, seed: 1)
        let img = benchImages(count: images, seed: 3)
        let cap = benchCaptions(lengths: lengths, seed: 4)
        print(String(format: "%d images x %d regions, %d captions (mean length %.2f tokens, %d words), dim %d: P = %.2f TFLOP",
                     images, regions, captions, meanLength(lengths), cap.totalRows, dim, pFLOP(img, cap) / 1e12))
        print("direction | seconds | dot products alone at SCAN-shaped sgemm rate (s) | ratio | effective GFLOP/s")
        for dir in directions {
            let (dt, checksum) = time(dir, img, cap)
            let ideal = pFLOP(img, cap) / (peakScan * 1e9)
            print(String(format: "%@ %@ | %.2f | %.2f | %.2f | %.1f   (checksum %.4f)", dir.rawValue, aggFunc, dt, ideal, dt / ideal, pFLOP(img, cap) / dt / 1e9, checksum))
        }
        if cocoSliceImages > 0 {
            // COCO's test captions are not in the fixtures: lengths drawn with COCO's mean of about
            // 10.5 words (+ <start>/<end>), which is what the product's size depends on.
            let cocoLengths = (0..<25_000).map { 9 + ($0 * 7919) % 8 }
            let slice = benchImages(count: cocoSliceImages, seed: 5)
            let cocoCaps = benchCaptions(lengths: cocoLengths, seed: 6)
            let factor = 5000.0 / Double(cocoSliceImages)
            print(String(format: "COCO 5K: 5000 images x 25000 captions (mean length %.2f tokens), measured on %d images x 25000 captions, x %.1f:",
                         meanLength(cocoLengths), cocoSliceImages, factor))
            print("direction | slice seconds | slice ratio | COCO 5K seconds (extrapolated)")
            for dir in directions {
                let (dt, _) = time(dir, slice, cocoCaps)
                let ideal = pFLOP(slice, cocoCaps) / (peakScan * 1e9)
                print(String(format: "%@ %@ | %.2f | %.2f | %.0f", dir.rawValue, aggFunc, dt, dt / ideal, dt * factor))
            }
        }
        print(String(format: "peak resident memory: %.2f GB", Double(peakRSSBytes()) / 1e9))
    }

    var directions: [CrossAttn] { direction == "both" ? [.t2i, .i2t] : [CrossAttn(rawValue: direction) ?? .t2i] }

    func meanLength(_ lengths: [Int]) -> Double { Double(lengths.reduce(0, +)) / Double(lengths.count) }

    func pFLOP(_ img: EmbeddingSet, _ cap: EmbeddingSet) -> Double { 2 * Double(img.totalRows) * Double(cap.totalRows) * Double(dim) }

    /// Seconds for the exact matrix in one direction (the paper's lambdas), and a checksum of it.
    func time(_ dir: CrossAttn, _ img: EmbeddingSet, _ cap: EmbeddingSet) -> (Double, Float) {
        let agg = AggFunc(rawValue: aggFunc) ?? .logSumExp
        let att = CrossAttention(direction: dir, rawFeatureNorm: .clippedL2norm, aggFunc: agg, lambdaSoftmax: dir == .t2i ? 9 : 4, lambdaLSE: dir == .t2i ? 6 : 5)
        let t = now()
        let s = SimilarityScorer(attention: att).scores(images: img, captions: cap)
        return (now() - t, s.reduce(0, +) / Float(s.count))
    }

    func benchImages(count: Int, seed: UInt64) -> EmbeddingSet {
        var rng = BenchRNG(seed: seed)
        var set = EmbeddingSet(dim: dim)
        for _ in 0..<count {
            var rows = (0..<(regions * dim)).map { _ in rng.uniform() }
            VectorOps.l2normalizeRows(&rows, dim: dim)
            set.append(Tensor(shape: [regions, dim], data: rows))
        }
        return set
    }

    func benchCaptions(lengths: [Int], seed: UInt64) -> EmbeddingSet {
        var rng = BenchRNG(seed: seed)
        var set = EmbeddingSet(dim: dim)
        for n in lengths {
            var rows = (0..<(n * dim)).map { _ in rng.uniform() - 0.5 }
            VectorOps.l2normalizeRows(&rows, dim: dim)
            set.append(Tensor(shape: [n, dim], data: rows))
        }
        return set
    }
}

struct PackedGemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packed-gemm",
        abstract: "The GRU's W_hh products over a batch's time steps, single-threaded: OpenBLAS per step vs pack once + scan_gemm_packed_f32.")

    @Option(help: "Repetitions (medians are printed).") var repeats = 5

    /// Alive captions per time step of a Flickr30K batch of 128 (37 steps: 128 x 9, then decreasing).
    static let gruSteps = [128, 128, 128, 128, 128, 128, 128, 128, 128, 127, 121, 114, 100, 87, 71, 57, 49, 38, 30, 23,
                           16, 13, 9, 7, 6, 5, 4, 4, 3, 2, 2, 2, 1, 1, 1, 1, 1]

    func run() throws {
        let threads = BLAS.threadCount
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(threads) }
        print("OpenBLAS kernel: \(BLAS.coreName), 1 thread; packed kernel build: \(scan_vector_build() == 1 ? "AVX2+FMA" : "baseline")")
        print(String(format: "sgemm 2048^3 (OpenBLAS, 1 thread): %.1f GFLOP/s", sgemmRate(m: 2048, n: 2048, k: 2048, repeats: 3)))
        let hidden = 1024, gates = 3 * hidden
        var rng = BenchRNG(seed: 9)
        let w = (0..<(gates * hidden)).map { _ in rng.uniform() - 0.5 }
        let h = (0..<(128 * hidden)).map { _ in rng.uniform() - 0.5 }
        let dg = (0..<(128 * gates)).map { _ in rng.uniform() - 0.5 }
        var c = [Float](repeating: 0, count: 128 * gates), c2 = c
        // 64-byte aligned, as a trainer would allocate it: no panel load crosses a cache line.
        let packedCount = scan_packed_size(hidden, gates)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: packedCount * MemoryLayout<Float>.size, alignment: 64)
        defer { raw.deallocate() }
        let packed = raw.bindMemory(to: Float.self, capacity: packedCount)

        print("products | steps | GFLOP | OpenBLAS ms | GFLOP/s | pack ms | ours ms (+ pack) | GFLOP/s (incl. pack) | ours / OpenBLAS rate (incl. pack) | max |diff|")
        for (label, steps) in [("37 steps: 128 x 9, then decreasing", Self.gruSteps), ("m = 128 alone", [128])] {
            for forward in [true, false] {
                // Forward: C (b x 3072) = H (b x 1024) W^T; backward: dH (b x 1024) = dG (b x 3072) W.
                let (n, k, a) = forward ? (gates, hidden, h) : (hidden, gates, dg)
                let flop = steps.reduce(0.0) { $0 + 2 * Double($1) * Double(n) * Double(k) }
                var blasT: [Double] = [], packT: [Double] = [], oursT: [Double] = []
                w.withUnsafeBufferPointer { pw in a.withUnsafeBufferPointer { pa in
                    c.withUnsafeMutableBufferPointer { pc in c2.withUnsafeMutableBufferPointer { pc2 in
                        for _ in 0..<repeats {
                            var t = now()
                            for b in steps {
                                BLAS.sgemm(transB: forward, m: b, n: n, k: k, a: pa.baseAddress!, lda: k,
                                           b: pw.baseAddress!, ldb: hidden, c: pc.baseAddress!, ldc: n)
                            }
                            blasT.append(now() - t)
                            t = now()
                            scan_pack_f32(pw.baseAddress!, hidden, forward ? 1 : 0, k, n, packed)
                            packT.append(now() - t)
                            t = now()
                            for b in steps { scan_gemm_packed_f32(b, n, k, pa.baseAddress!, k, packed, 0, pc2.baseAddress!, n) }
                            oursT.append(now() - t)
                        }
                    }}
                }}
                // Both routes' last product was the same step: their results must agree to rounding.
                let count = steps.last! * n
                let diff = zip(c[0..<count], c2[0..<count]).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                let (tb, tp, to) = (median(blasT), median(packT), median(oursT))
                print(String(format: "%@ %@ | %d | %.2f | %.2f | %.1f | %.2f | %.2f (%.2f) | %.1f (%.1f) | %.2f (%.2f) | %.1e",
                             forward ? "forward  H W^T" : "backward dG W", label, steps.count, flop / 1e9, tb * 1e3, flop / tb / 1e9,
                             tp * 1e3, to * 1e3, (to + tp) * 1e3, flop / to / 1e9, flop / (to + tp) / 1e9, tb / to, tb / (to + tp), diff))
            }
        }
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

/// `scan-bench index`: build throughput, bytes per image, peak memory and query latency of the search
/// index at paper sizes (IndexBenchmark), then the recall retention of two-stage search against exact
/// search on a generated collection with known matches and a small trained model (RetentionStudy).
struct IndexBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index build and query latency at 10k/100k images (paper sizes), and recall retention vs K for plain and fitted prefilters.")

    @Option(help: "Index sizes, comma separated, ascending.") var sizes = "10000,100000"
    @Option(help: "Timed queries per mode.") var queries = 40
    @Option(help: "Timed exact queries.") var exactQueries = 3
    @Option(help: "Above this size exact search is timed on a slice of this many images and extrapolated.") var exactFullUpTo = 10_000
    @Option(help: "Images of the float32/float16/int8 deviation indexes (0: skip).") var deviationImages = 1000
    @Option(help: "Working directory (default: a temporary one, removed afterwards).") var directory: String?
    @Flag(help: "Keep the working directory.") var keep = false
    @Flag(help: "Generate the images already encoded (unit region vectors) instead of running the image encoder: for a million images.")
    var preEncoded = false
    @Flag(help: "Skip FAISS's first-stage figures (Tools/faiss_first_stage.py).") var noFaiss = false
    @Flag(help: "Skip the latency part.") var retentionOnly = false
    @Flag(help: "Skip the retention part.") var noRetention = false
    @Option(help: "Retention: images of the indexed collection (distinct sets of 4 of 24 nouns).") var retentionImages = 2000
    @Option(help: "Retention: training images.") var trainImages = 2000
    @Option(help: "Retention: training epochs.") var epochs = 12
    @Option(help: "Retention: K values, comma separated.") var ks = "10,50,100,200,500,1000"
    @Option(help: "Retention: feature noise amplitude of the generated collection.") var noise: Float = 0.6

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        if !retentionOnly {
            var o = IndexBenchmark.Options()
            o.sizes = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            o.queries = queries
            o.exactQueries = exactQueries
            o.exactFullUpTo = exactFullUpTo
            o.deviationImages = deviationImages
            o.directory = directory.map { $0 + "/latency" }
            o.keep = keep
            o.preEncoded = preEncoded
            if !noFaiss { o.faissScript = FirstStageBench.faissScript() }
            try IndexBenchmark.run(o)
        }
        if !noRetention { try retention() }
    }

    /// Trains a small SCAN model on a generated collection, fits a prefilter, indexes the test split
    /// twice (plain mean and fitted prefilter) and runs the retention study on its captions.
    func retention() throws {
        let fm = FileManager.default
        let root = directory.map { $0 + "/retention" } ?? (NSTemporaryDirectory() + "scan-retention-bench-\(getpid())")
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if !keep { try? fm.removeItem(atPath: root) } }
        var world = GeneratedCollection()
        world.splits = [("train", trainImages), ("dev", 200), ("test", retentionImages)]
        // Harder than the tests' world: forty nouns, four objects per image, captions naming three of them, more noise.
        world.nouns = GeneratedCollection.moreNouns
        world.objectsPerImage = 4
        world.mentioned = 3...3
        world.noise = noise
        try world.write(to: root + "/data")
        var o = TrainingOptions()
        o.config.embedSize = 64; o.config.wordDim = 32; o.config.imgDim = world.imgDim; o.config.biGRU = true
        o.config.maxViolation = false; o.config.numEpochs = epochs; o.config.batchSize = 64; o.config.learningRate = 0.005
        o.config.lrUpdate = max(1, epochs * 2 / 3)
        o.dataPath = root + "/data"; o.dataName = ""; o.vocabPath = root + "/data/vocab.json"
        o.loggerName = root + "/run/log"; o.modelName = root + "/run/checkpoint"
        o.logStep = 0; o.valStep = 0; o.seed = 3; o.quiet = true
        let t0 = now()
        let summary = try Trainer(options: o).run()
        let trainSeconds = now() - t0
        let best = root + "/run/checkpoint/model_best"
        let plain = root + "/model-plain", fitted = root + "/model-fitted"
        for d in [plain, fitted] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
            for f in IndexModel.requiredFiles { try fm.copyItem(atPath: best + "/" + f, toPath: d + "/" + f) }
        }
        var fitter = PrefilterFitter()
        fitter.dim = 64; fitter.steps = 600; fitter.batchSize = 256
        let t1 = now()
        _ = try fitter.fit(modelDirectory: fitted, folder: root + "/data", split: "train", quiet: true)
        let fitSeconds = now() - t1
        print("")
        print(String(format: "retention study: generated collection (%d nouns, %d objects per image, captions naming 3 of them, %d regions x %d dims, noise %.2f), SCAN embed %d, bi-GRU, " +
                     "trained %d epochs on %d images in %.0f s (best dev rsum %.1f); prefilter fitted (P = %d, %d steps) in %.1f s",
                     world.nouns.count, world.objectsPerImage, world.regions, world.imgDim, Double(world.noise), o.config.embedSize, epochs, trainImages, trainSeconds, summary.bestRsum,
                     fitter.dim, fitter.steps, fitSeconds))
        let queries = try GeneratedCollection.queries(folder: root + "/data", split: "test")
        let kValues = ks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        for (name, model) in [("plain", plain), ("fitted", fitted)] {
            var b = BuildOptions()
            b.showProgress = false
            let index = root + "/index-" + name
            _ = try IndexBuilder.build(index: index, modelDirectory: model,
                                       source: try PrecompFeatureSource(imagesPath: root + "/data/test_ims.npy", captionsPath: root + "/data/test_caps.txt"),
                                       options: b)
            let report = try RetentionStudy.run(index: index, queries: queries, ks: kValues)
            print(report.table)
        }
    }
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Seconds per training step at the paper's sizes (batch 128, embed 1024, word_dim 300, vocab 8480, 36 x 2048, bi-GRU, t2i LSE, max_violation).")

    @Option(help: "Timed steps (after one warm-up step).") var steps = 5
    @Option(name: .customLong("batch_size"), help: "Batch size.") var batchSize = 128

    func run() throws {
        // Real caption lengths and words when the reference folder is there (tokenised Flickr30K test captions).
        var pool: [[Int]]? = nil
        for dir in [ProcessInfo.processInfo.environment["SCAN_REFERENCE_DIR"], "../shared/fixtures/reference"].compactMap({ $0 }) {
            let path = dir + "/tokenize_f30k_test.jsonl"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            pool = text.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["ids"] as? [Int]
            }
            break
        }
        print(TrainingBenchmark.run(batchSize: batchSize, steps: steps, captionPool: pool))
    }
}

struct Retention: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "t2i recall of an existing index: exact SCAN, the prefilter alone, and prefilter + re-rank for several K. "
            + "Queries are a captions file whose caption i belongs to the image with id i / 5 (a precomp split indexed by row).")

    @Option(help: "Index directory.") var index: String
    @Option(help: "Captions, 5 per image, in the index's row order.") var captions: String
    @Option(help: "Candidate counts K, comma separated.") var ks = "10,20,50,100,200"

    func run() throws {
        let text = try String(contentsOfFile: captions, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        let queries = lines.enumerated().map { (caption: $0.element, imageID: String($0.offset / 5)) }
        let report = try RetentionStudy.run(index: index, queries: queries, ks: ks.split(separator: ",").compactMap { Int($0) })
        print(report.table)
    }
}
