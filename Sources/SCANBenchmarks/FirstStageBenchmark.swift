import CSCANKernels
import Foundation
import SCANCore
import SCANIndex
import SCANSearch

/// The first stage alone at large sizes: the compact 4-bit first stage (with its shortlist
/// rescored from the index) against the float32 scan of every vector, on generated prefilter
/// vectors stored in a real index, then FAISS on the same vectors (Tools/faiss_first_stage.py).
/// The vectors are generated already encoded (unit vectors around 1000 random directions, the
/// shape of a fitted prefilter's output), not computed by a model. Prints; asserts nothing.
public enum FirstStageBenchmark {
    public struct Options: Sendable {
        public var sizes = [100_000]
        public var dim = 256
        public var queries = 200
        public var ks = [100, 1000]
        /// Working directory (default: a temporary one, removed afterwards unless `keep`).
        public var directory: String?
        public var keep = false
        /// Path of Tools/faiss_first_stage.py; nil skips FAISS.
        public var faissScript: String?
        /// Threads of one query, ours (`CompactPrefilter.threads`) and FAISS's (OpenMP) alike.
        public var threads = Parallel.cores
        /// FAISS indexes to build (index_factory strings; nil: the helper's default SQ4, PQ{P/2}, PQ{P}x4fs).
        public var faissIndexes: [String]?
        /// Shortlist factors of the compact first stage to measure (the default is `CompactPrefilter().shortlistFactor`).
        public var shortlistFactors = [1.25, 2.0, 4.0]
        /// An existing index whose prefilter vectors (and records, and blocks) are measured instead of
        /// generated ones (`sizes` and `dim` are then the index's); queries are stored vectors plus noise.
        public var index: String?
        public init() {}
    }

    public static func run(_ o: Options, out: (String) -> Void = { print($0) }) throws {
        let fm = FileManager.default
        let dir = o.directory ?? (NSTemporaryDirectory() + "scan-first-stage-\(getpid())")
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if !o.keep { try? fm.removeItem(atPath: dir) } }
        let builds = ["scalar", "AVX2", "AVX-512BW"]
        let kernel = Int(CompactPrefilter.defaultKernel)
        out("first stage: " + (o.index == nil ? "generated unit vectors (already encoded: no model runs), P = \(o.dim)" : "an index's own prefilter vectors") + ", \(o.queries) queries near stored vectors; cores \(Parallel.cores), \(o.threads) threads per query (ours and FAISS's); fast-scan kernel \(kernel < builds.count ? builds[kernel] : String(kernel)); load average \(Yardstick.loadAverage())")
        for size in o.index.map({ _ in [0] }) ?? o.sizes {
            var size = size, dim = o.dim
            var vectors: [Float], queries: [[Float]]
            let index: String
            var t = ProgressReporter.now()
            var writeSeconds = 0.0
            if let existing = o.index {
                index = existing
                let m = try IndexReader(path: existing).prefilterMatrix()
                (size, dim, vectors) = (m.count, m.dim, m.values)
                queries = queriesNear(vectors, dim: dim, count: o.queries, seed: 7)
                out("\(existing): the index's own \(size) prefilter vectors of dim \(dim) (read in \(String(format: "%.1f", ProgressReporter.now() - t)) s), queries near stored ones")
            } else {
                (vectors, queries) = generate(size: size, dim: dim, queries: o.queries, seed: 7)
                index = dir + "/index-\(size)"
                try? fm.removeItem(atPath: index)
                t = ProgressReporter.now()
                try write(vectors, dim: dim, to: index)
                writeSeconds = ProgressReporter.now() - t
            }
            let reader = try IndexReader(path: index)
            let s = try reader.snapshot()
            defer { s.close() }
            let compact = CompactPrefilter(dim: dim)
            compact.threads = o.threads
            let rss0 = IndexBenchmark.MemorySampler.current().0
            t = ProgressReporter.now()
            try compact.extend(from: s)
            let compactLoad = ProgressReporter.now() - t
            let rss1 = IndexBenchmark.MemorySampler.current().0
            let float32 = ResidentPrefilter(dim: dim, storage: .float32)
            t = ProgressReporter.now()
            try float32.extend(from: s)
            let floatLoad = ProgressReporter.now() - t
            out(String(format: "%d images: index of the vectors written in %.1f s; load: compact %.1f s (%d B/image, %.1f MB; process anon memory +%.1f MB), float32 %.1f s (%d B/image, %.1f MB)",
                       size, writeSeconds, compactLoad, compact.bytesPerImage, Double(compact.residentBytes) / 1e6, Double(rss1 - rss0) / 1e6,
                       floatLoad, float32.bytesPerImage, Double(float32.residentBytes) / 1e6))
            out("  first stage | K | shortlist | recall of the float32 top K | p50 ms | p95 ms | p99 ms")
            func p(_ x: [Double], _ q: Double) -> Double { Yardstick.percentile(x, q) }
            // The float32 top max(K) of every query once (best first); each K's truth is its prefix.
            var tf: [Double] = []
            var ranked: [[UInt64]] = []
            for (i, q) in queries.enumerated() {
                let c = ProgressReporter.now()
                let pf = float32.scores(q, rows: size)
                ranked.append(TopK.select(pf, k: o.ks.max() ?? 0).map { UInt64($0) })
                if i >= 3 { tf.append(1000 * (ProgressReporter.now() - c)) }
            }
            for k in o.ks {
                let truths = ranked.map { Set($0.prefix(k)) }
                out(String(format: "  float32 scan (top max K) | %d | - | 100.00%% | %.2f | %.2f | %.2f", k, p(tf, 0.5), p(tf, 0.95), p(tf, 0.99)))
                // The codes alone (no rescoring): the kernel against FAISS's rows without a shortlist.
                var tr: [Double] = [], rawRecall: [Double] = []
                for (i, q) in queries.enumerated() {
                    let c = ProgressReporter.now()
                    let got = compact.approximateTopK(q, k: k, rows: size)
                    if i >= 3 { tr.append(1000 * (ProgressReporter.now() - c)) }
                    rawRecall.append(Double(truths[i].intersection(got).count) / Double(truths[i].count))
                }
                out(String(format: "  compact 4-bit, codes only | %d | - | %.2f%% (min %.1f%%) | %.2f | %.2f | %.2f", k,
                           100 * rawRecall.reduce(0, +) / Double(rawRecall.count), 100 * (rawRecall.min() ?? 0), p(tr, 0.5), p(tr, 0.95), p(tr, 0.99)))
                for factor in o.shortlistFactors {
                    compact.shortlistFactor = factor
                    var tc: [Double] = [], recall: [Double] = []
                    // An untimed pass first: it maps the records it touches (page faults of a fresh
                    // mapping), as FAISS's helper does with its rows; a serving process is warm.
                    for q in queries { _ = try compact.candidates(q, k: k, snapshot: s) }
                    for (i, q) in queries.enumerated() {
                        let c = ProgressReporter.now()
                        let got = try compact.candidates(q, k: k, snapshot: s).keys
                        if i >= 3 { tc.append(1000 * (ProgressReporter.now() - c)) }
                        recall.append(Double(truths[i].intersection(got).count) / Double(truths[i].count))
                    }
                    out(String(format: "  compact 4-bit (shortlist x%.2f) | %d | %d | %.2f%% (min %.1f%%) | %.2f | %.2f | %.2f", factor, k, compact.shortlist(k: k, rows: size),
                               100 * recall.reduce(0, +) / Double(recall.count), 100 * (recall.min() ?? 0), p(tc, 0.5), p(tc, 0.95), p(tc, 0.99)))
                }
                compact.shortlistFactor = CompactPrefilter(dim: dim).shortlistFactor
            }
            if let script = o.faissScript {
                try faiss(script: script, vectors: vectors, dim: dim, queries: queries, ks: o.ks, threads: o.threads, indexes: o.faissIndexes, directory: dir, out: out)
                out("  load average after \(size): \(Yardstick.loadAverage())")
            }
        }
    }

    /// Runs Tools/faiss_first_stage.py on `vectors` (n x dim) and `queries`, printing its table with `out`.
    public static func faiss(script: String, vectors: [Float], dim: Int, queries: [[Float]], ks: [Int], threads: Int,
                             indexes: [String]? = nil, directory dir: String, out: (String) -> Void) throws {
        let fm = FileManager.default
        let n = vectors.count / dim
        let vpath = dir + "/faiss-vectors-\(n).npy", qpath = dir + "/faiss-queries-\(n).npy"
        try NPY.write(Tensor(shape: [n, dim], data: vectors), to: vpath)
        try NPY.write(Tensor(shape: [queries.count, dim], data: queries.flatMap { $0 }), to: qpath)
        defer {
            try? fm.removeItem(atPath: vpath)
            try? fm.removeItem(atPath: qpath)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, vpath, qpath, "--ks", ks.map(String.init).joined(separator: ","), "--threads", "\(threads)"]
        if let indexes { p.arguments! += ["--indexes", indexes.joined(separator: ",")] }
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") { out("  " + line) }
        if p.terminationStatus != 0 { out("  (FAISS helper exited with status \(p.terminationStatus))") }
    }

    /// `size` unit vectors around 1000 random unit directions, and queries near random stored vectors.
    public static func generate(size: Int, dim: Int, queries: Int, seed: UInt64) -> ([Float], [[Float]]) {
        var rng = SplitMix64(seed: seed)
        let centres = 1000
        var c = [Float](repeating: 0, count: centres * dim)
        for i in 0..<c.count { c[i] = gauss(&rng) }
        VectorOps.l2normalizeRows(&c, dim: dim)
        var x = [Float](repeating: 0, count: size * dim)
        let spread = 1.2 / Float(dim).squareRoot()
        for r in 0..<size {
            let k = Int(rng.next() % UInt64(centres))
            for j in 0..<dim { x[r * dim + j] = c[k * dim + j] + spread * gauss(&rng) }
        }
        VectorOps.l2normalizeRows(&x, dim: dim)
        var qs = noisyRows(of: x, dim: dim, count: queries, scaledToNorm: false, &rng)
        for i in qs.indices { VectorOps.l2normalizeRows(&qs[i], dim: dim) }
        return (x, qs)
    }

    /// `count` queries near random stored vectors of `x` (rows of `dim`): the row plus gaussian noise
    /// of 1.2 / sqrt(dim) per dimension scaled to the row's norm, as `generate` makes them for unit rows.
    public static func queriesNear(_ x: [Float], dim: Int, count: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        return noisyRows(of: x, dim: dim, count: count, scaledToNorm: true, &rng)
    }

    /// Random rows of `x` plus gaussian noise of 1.2 / sqrt(dim) per dimension (times the row's norm
    /// when `scaledToNorm`).
    private static func noisyRows(of x: [Float], dim: Int, count: Int, scaledToNorm: Bool, _ rng: inout SplitMix64) -> [[Float]] {
        let size = x.count / max(1, dim)
        guard size > 0 else { return [] }
        let spread = 1.2 / Float(dim).squareRoot()
        var qs: [[Float]] = []
        for _ in 0..<count {
            let r = Int(rng.next() % UInt64(size))
            let row = x[(r * dim)..<((r + 1) * dim)]
            let scale = scaledToNorm ? row.reduce(0) { $0 + $1 * $1 }.squareRoot() * spread : spread
            var q = [Float](repeating: 0, count: dim)
            for (j, v) in row.enumerated() { q[j] = v + scale * gauss(&rng) }
            qs.append(q)
        }
        return qs
    }

    private static func gauss(_ rng: inout SplitMix64) -> Float {
        let u = max(Float(1e-7), rng.uniform()), v = rng.uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Float.pi * v)
    }

    /// An index holding the vectors as prefilter vectors (float16 records, as a build stores them)
    /// and one 4-dim region per image, ids `firstID`, `firstID + 1`, ... (appended to the index at
    /// `path` when it exists: a later commit).
    public static func write(_ vectors: [Float], dim: Int, to path: String, firstID: Int = 0) throws {
        let n = vectors.count / dim
        let c = IndexWriter.Configuration(modelFingerprint: "first-stage-benchmark", modelName: "generated", embedDim: 4, imgDim: 4,
                                          precision: .float16, prefilterKind: .projection, prefilterDim: dim, prefilterPrecision: .float16,
                                          prefilterFingerprint: "generated", compressionLevel: 0)
        let w = try IndexWriter(path: path, configuration: c)
        let region = Tensor(shape: [1, 4], data: [0.5, 0.5, 0.5, 0.5])
        let batch = 8192
        for lo in stride(from: 0, to: n, by: batch) {
            let hi = min(n, lo + batch)
            let records = (lo..<hi).map { i in
                ImageRecord(id: String(firstID + i), source: "generated", regions: region, prefilter: Array(vectors[(i * dim)..<((i + 1) * dim)]))
            }
            try w.append(records)
        }
        try w.markComplete()
    }
}
