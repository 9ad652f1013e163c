import Foundation
import SCANCore
import SCANSearch
import SCANSynthetic
import SCANModel

/// The index and search benchmark: build throughput, bytes per image, peak memory and query
/// latency at growing index sizes, with a random SCAN model of the paper's sizes encoding generated
/// features through the real build path (`IndexBuilder`). Prints a table; asserts nothing.
public enum IndexBenchmark {
    public struct Options: Sendable {
        /// Index sizes, ascending: the index is built to the first size, then extended to each next one.
        public var sizes = [10_000, 100_000]
        public var regions = 36
        public var imgDim = 2048
        public var embedSize = 1024
        public var wordDim = 300
        public var vocabSize = 8480
        public var biGRU = true
        /// Dimension of the (random) projection prefilter: the cost of a fitted one.
        public var prefilterDim = 256
        /// Region storage (the build default).
        public var precision: Precision = .pq4
        public var batchSize = 128
        /// Timed queries per mode (after 3 warm-up queries).
        public var queries = 40
        /// Timed exact queries.
        public var exactQueries = 3
        /// Above this many images exact search is timed on a slice of this many images and extrapolated linearly.
        public var exactFullUpTo = 10_000
        /// Images of the small float32/float16 indexes that measure the storage deviation (0: skip).
        public var deviationImages = 1000
        /// Generate the images already encoded (EncodedImageGenerator) instead of running the image
        /// encoder on generated features: for a million images, where encoding would take hours.
        public var preEncoded = false
        /// Tools/faiss_first_stage.py: FAISS's first stage on the index's prefilter vectors in the same run (nil: skipped).
        public var faissScript: String?
        /// FAISS index_factory strings (nil: SQ4 and the 4-bit PQ fast scan at the same bytes per image,
        /// leaving out 8-bit PQ, whose training takes half an hour here).
        public var faissIndexes: [String]?
        /// Working directory (default: a new temporary one); removed afterwards unless `keep`.
        public var directory: String?
        public var keep = false
        public init() {}
    }

    static let queryWords = ["a", "the", "man", "woman", "dog", "cat", "on", "in", "with", "beach", "street", "red", "blue",
                             "playing", "running", "sitting", "two", "people", "near", "water", "ball", "bike", "car", "of",
                             "and", "small", "young", "child", "grass", "white", "black", "standing", "front", "building"]

    /// Runs the benchmark, printing lines with `out`.
    public static func run(_ o: Options, out: (String) -> Void = { print($0) }) throws {
        let fm = FileManager.default
        let dir = o.directory ?? (NSTemporaryDirectory() + "scan-index-bench-\(getpid())")
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if !o.keep { try? fm.removeItem(atPath: dir) } }

        out("BLAS kernel: \(BLAS.coreName), BLAS threads \(BLAS.threadCount) (1 while searching), cores \(Parallel.cores); load average \(Yardstick.loadAverage())")
        out(String(format: "sgemm 4608x2048x1024 (SCAN-shaped): %.1f GFLOP/s; encoder-shaped 4608x1024x2048: %.1f GFLOP/s",
                   Yardstick.sgemmRate(m: 4608, n: 2048, k: 1024), Yardstick.sgemmRate(m: 4608, n: 1024, k: 2048)))
        var config = ModelConfig()
        config.embedSize = o.embedSize; config.imgDim = o.imgDim; config.wordDim = o.wordDim
        config.vocabSize = o.vocabSize; config.biGRU = o.biGRU
        let modelDir = dir + "/model"
        try RandomModel.write(to: modelDir, config: config, words: queryWords, prefilterDim: o.prefilterDim, seed: 11)
        out("model: random SCAN weights, embed \(o.embedSize), img_dim \(o.imgDim), word_dim \(o.wordDim), \(o.biGRU ? "bi-GRU" : "GRU"), vocab \(o.vocabSize), " +
            "\(config.crossAttn.rawValue) \(config.aggFunc.rawValue); prefilter: random projection, P = \(o.prefilterDim) (the cost of a fitted one)")
        if o.preEncoded {
            out("images: GENERATED ALREADY ENCODED (\(o.regions) unit regions x \(o.embedSize) per image, mixes of random directions; the image encoder does not run), prefilter vectors by the model's prefilter, written through IndexWriter")
        } else {
            out("features: generated, \(o.regions) regions x \(o.imgDim) float32 per image (\(o.regions * o.imgDim * 4) bytes raw), encoded by the model through IndexBuilder")
        }

        if o.deviationImages > 0 { try deviation(o, modelDir: modelDir, dir: dir, out: out) }

        let index = dir + "/index"
        var buildRows: [String] = []
        var latencyRows: [String] = []
        var breakdownRows: [String] = []
        var previous = 0
        for size in o.sizes.sorted() {
            var b = BuildOptions()
            b.precision = o.precision
            b.batchSize = o.batchSize
            b.showProgress = true
            b.checkValues = false
            let source = SyntheticFeatureSource(count: size, regions: o.regions, imgDim: o.imgDim, seed: 5)
            let report: BuildReport
            let sampler = MemorySampler()
            defer { sampler.stop() }
            if o.preEncoded {
                report = try appendEncoded(o, index: index, modelDir: modelDir, from: previous, to: size, options: b)
            } else if previous == 0 {
                report = try IndexBuilder.build(index: index, modelDirectory: modelDir, source: source, options: b)
            } else {
                report = try IndexBuilder.add(index: index, source: source, options: b)
            }
            let (anon, file) = sampler.stop()
            let info = try IndexInfo(index: index)
            let perImage = Double(info.dataFileBytes) / Double(size)
            buildRows.append(String(format: "%8d | %8d | %8.1f | %5.0f%% | %9.0f | %5.1f%% | %5.1f%% | %7.2f | %7.2f",
                                     size, report.appended, report.imagesPerSecond, 100 * report.encodeSeconds / max(report.seconds, 1e-9),
                                     perImage, 100 * perImage / info.rawFeatureBytesPerImage,
                                     100 * perImage / (Double(o.regions * o.embedSize * 4)), Double(anon) / 1e9, Double(file) / 1e9))
            previous = size
            let (row, breakdown) = try latency(o, index: index, size: size, dir: dir, out: out)
            latencyRows.append(row)
            breakdownRows.append(breakdown)
        }
        out("")
        out("build (\(o.precision.rawValue) regions, zstd 3, batches of \(o.batchSize); each row extends the index of the row before):")
        out("  images | appended | images/s | encode | bytes/img | of raw f32 | of f32 encoded | peak anon GB | peak file-backed GB")
        buildRows.forEach { out($0) }
        out("")
        out("query latency in ms, p50 / p95 / p99 over \(o.queries) queries (\(o.exactQueries) for exact), warm page cache, top 10 with captions:")
        out("  images | load s | first stage only (K=10) | two-stage K=100 | two-stage K=1000 | exact | first stage resident | peak anon / file GB while searching")
        latencyRows.forEach { out($0) }
        out("")
        out("two-stage K=100, median per stage (ms): encode query | prefilter scores + top-K | decode 100 records | SCAN on 100 | metadata of 10" +
            " || process CPU time per query (both cores, user + system)")
        breakdownRows.forEach { out($0) }
        out("")
        try prefilterScan(o, out: out)
        out("(peak anon: the process's own memory while building; file-backed: LMDB map pages it touched, page cache the kernel reclaims)")
        out(String(format: "peak resident memory of the benchmark process (ru_maxrss, anon + file-backed): %.2f GB; load average at the end %@", Double(Yardstick.peakRSSBytes()) / 1e9, Yardstick.loadAverage()))
    }

    /// Appends images `from ..< to` generated already encoded (see `Options.preEncoded`), training the
    /// codebook of a product-quantised index on the first 1000 images when it has none.
    static func appendEncoded(_ o: Options, index: String, modelDir: String, from: Int, to: Int, options b: BuildOptions) throws -> BuildReport {
        let t0 = ProgressReporter.now()
        let model = try IndexModel(directory: modelDir)
        let builder = from == 0 ? try IndexBuilder.open(creating: index, model: model, options: b) : try IndexBuilder.open(appendingTo: index, copy: model, options: b)
        let gen = EncodedImageGenerator(regions: o.regions, dim: o.embedSize)
        var genSeconds = 0.0
        if let subDim = builder.writer.configuration.precision.subDim, builder.writer.codebook == nil {
            let sample = gen.records(0..<min(to, 1000), prefilter: model.prefilter)
            let pq = try ProductQuantizerTrainer().train(sample.flatMap { $0.regions.data }, rows: sample.count * o.regions, dim: o.embedSize, subDim: subDim)
            try builder.writer.installCodebook(pq)
        }
        let progress = ProgressReporter(label: "index (pre-encoded)", total: to - from, unit: "images")
        for lo in stride(from: from, to: to, by: max(1, o.batchSize)) {
            let hi = min(to, lo + max(1, o.batchSize))
            let t = ProgressReporter.now()
            let records = gen.records(lo..<hi, prefilter: model.prefilter)
            genSeconds += ProgressReporter.now() - t
            try builder.writer.append(records)
            progress.update(hi - from)
        }
        progress.finish()
        try builder.markComplete()
        return BuildReport(indexPath: index, sourceImages: to, alreadyPresent: from, appended: to - from, seconds: ProgressReporter.now() - t0,
                           encodeSeconds: genSeconds, manifest: builder.writer.manifest)
    }

    /// Query latency at the index's current size.
    static func latency(_ o: Options, index: String, size: Int, dir: String, out: (String) -> Void) throws -> (String, String) {
        let sampler = MemorySampler()
        defer { sampler.stop() }
        // As in scan-search; the build (next size) gets BLAS's threads back.
        let blasThreads = BLAS.threadCount
        Searcher.tuneProcessForSearch()
        defer { BLAS.setThreadCount(blasThreads) }
        let t0 = ProgressReporter.now()
        let searcher = try Searcher(index: index)
        let load = ProgressReporter.now() - t0
        var rng = SplitMix64(seed: 99)
        let texts: [String] = (0..<(o.queries + 3)).map { _ in
            (0..<(6 + Int(rng.next() % 7))).map { _ in queryWords[Int(rng.next() % UInt64(queryWords.count))] }.joined(separator: " ")
        }
        var cpu: [String: Double] = [:]
        func timed(_ n: Int, _ mode: String = "", _ body: (String) throws -> Void) rethrows -> [Double] {
            var times: [Double] = []
            var c0 = 0.0
            for (i, t) in texts.prefix(n + 3).enumerated() {
                if i == 3 { c0 = Yardstick.cpuSeconds() }
                let s = ProgressReporter.now()
                try body(t)
                if i >= 3 { times.append(1000 * (ProgressReporter.now() - s)) }
            }
            cpu[mode] = 1000 * (Yardstick.cpuSeconds() - c0) / Double(max(1, times.count))
            return times
        }
        let pf = try timed(o.queries, "pf") { _ = try searcher.prefilterSearch(try searcher.encode($0), top: 10) }
        let k100 = try timed(o.queries, "k100") { _ = try searcher.search(try searcher.encode($0), top: 10, candidates: 100) }
        let k1000 = try timed(o.queries, "k1000") { _ = try searcher.search(try searcher.encode($0), top: 10, candidates: 1000) }
        var exactNote = ""
        var exact: [Double]
        if size <= o.exactFullUpTo {
            exact = try timed(o.exactQueries) { _ = try searcher.search(try searcher.encode($0), top: 10, exact: true) }
        } else {
            let slice = o.exactFullUpTo
            exact = try timed(o.exactQueries) { t in
                let q = try searcher.encode(t)
                let s = try searcher.snapshot()
                defer { s.close() }
                _ = try searcher.exactScores([q], snapshot: s, range: 0..<slice)
            }
            exact = exact.map { $0 * Double(size) / Double(slice) }
            exactNote = " (extrapolated from \(slice))"
        }
        // Stages of K = 100.
        var stages = [[Double]](repeating: [], count: 5)
        for t in texts.prefix(o.queries) {
            var c = ProgressReporter.now()
            func lap(_ i: Int) { let n = ProgressReporter.now(); stages[i].append(1000 * (n - c)); c = n }
            let q = try searcher.encode(t); lap(0)
            let s = try searcher.snapshot()
            c = ProgressReporter.now()
            let cand = try searcher.firstStageCandidates(q, k: 100, snapshot: s).keys; lap(1)
            let batch = try s.regionBatch(cand); lap(2)
            let sc = searcher.scorer.scores(images: EmbeddingSet(dim: batch.dim, offsets: batch.rowOffsets, data: batch.values), captions: q.caption); lap(3)
            for i in TopK.select(sc, k: 10) { _ = try s.metadata(cand[i]) }; lap(4)
            s.close()
        }
        func pp(_ x: [Double]) -> String { String(format: "%.1f / %.1f / %.1f", Yardstick.percentile(x, 0.5), Yardstick.percentile(x, 0.95), Yardstick.percentile(x, 0.99)) }
        let (anon, file) = sampler.stop()
        let row = String(format: "%8d | %6.2f | %@ | %@ | %@ | %@%@ | %@, %d B/image, %.1f MB | %.2f / %.2f", size, load, pp(pf), pp(k100), pp(k1000), pp(exact), exactNote,
                         searcher.firstStage.rawValue, searcher.firstStageBytesPerImage, Double(searcher.firstStageBytesPerImage * searcher.firstStageCount) / 1e6,
                         Double(anon) / 1e9, Double(file) / 1e9)
        if let script = o.faissScript {
            // FAISS on the same prefilter vectors and the same queries' prefilter vectors, in this run.
            let vectors = try searcher.reader.prefilterMatrix().values
            let queries = try texts.prefix(o.queries).map { try searcher.encode($0).prefilterVector }
            out("\(size) images: FAISS first stage on the index's \(searcher.manifest.prefilterDim)-dim prefilter vectors and the \(queries.count) queries above (truth: exact float top K):")
            let p = searcher.manifest.prefilterDim
            try FirstStageBenchmark.faiss(script: script, vectors: vectors, dim: p, queries: queries, ks: [100, 1000],
                                          threads: Parallel.cores, indexes: o.faissIndexes ?? ["SQ4", "PQ\(p)x4fs"], directory: dir, out: out)
            out("\(size) images: our compact first stage, same vectors and queries (recall of the float32 top K; p50 / p95 / p99 ms):")
            let s = try searcher.snapshot()
            defer { s.close() }
            for k in [100, 1000] {
                var times: [Double] = [], recall: [Double] = []
                // Untimed first pass (page faults of a fresh mapping), as FAISS's helper does.
                for q in queries { _ = try searcher.compact.candidates(q, k: k, snapshot: s, excluding: try s.deletedKeys()) }
                for q in queries {
                    let truth = Set(TopK.select(searcher.prefilterScores(Searcher.Query(text: "", tokenIDs: [], unknownWords: [], caption: EmbeddingSet(dim: 1), prefilterVector: q), rows: s.count), k: k).map { UInt64($0) })
                    let t = ProgressReporter.now()
                    let got = try searcher.compact.candidates(q, k: k, snapshot: s, excluding: try s.deletedKeys()).keys
                    times.append(1000 * (ProgressReporter.now() - t))
                    recall.append(Double(truth.intersection(got).count) / Double(truth.count))
                }
                out(String(format: "  compact 4-bit | %d B | K = %d | shortlist %d | recall %.2f%% (min %.1f%%) | %.2f / %.2f / %.2f",
                           searcher.compact.bytesPerImage, k, searcher.compact.shortlist(k: k, rows: s.count),
                           100 * recall.reduce(0, +) / Double(recall.count), 100 * (recall.min() ?? 0),
                           Yardstick.percentile(times, 0.5), Yardstick.percentile(times, 0.95), Yardstick.percentile(times, 0.99)))
            }
        }
        let breakdown = String(format: "%8d | %6.2f | %6.2f | %6.2f | %6.2f | %6.2f || CPU ms/query: prefilter only %.1f, K=100 %.1f, K=1000 %.1f",
                               size, Yardstick.percentile(stages[0], 0.5), Yardstick.percentile(stages[1], 0.5),
                               Yardstick.percentile(stages[2], 0.5), Yardstick.percentile(stages[3], 0.5), Yardstick.percentile(stages[4], 0.5),
                               cpu["pf"] ?? 0, cpu["k100"] ?? 0, cpu["k1000"] ?? 0)
        return (row, breakdown)
    }

    /// SCAN scores with float16 and int8 storage against float32 storage, on a small index of the same images.
    static func deviation(_ o: Options, modelDir: String, dir: String, out: (String) -> Void) throws {
        let source = SyntheticFeatureSource(count: o.deviationImages, regions: o.regions, imgDim: o.imgDim, seed: 17)
        var scores: [Precision: [[Float]]] = [:]
        var bytes: [Precision: Double] = [:]
        var rng = SplitMix64(seed: 5)
        let texts: [String] = (0..<20).map { _ in
            (0..<(6 + Int(rng.next() % 7))).map { _ in queryWords[Int(rng.next() % UInt64(queryWords.count))] }.joined(separator: " ")
        }
        for p in Precision.scalar {
            var b = BuildOptions()
            b.precision = p
            b.showProgress = false
            b.checkValues = false
            let path = dir + "/deviation-\(p.rawValue)"
            _ = try IndexBuilder.build(index: path, modelDirectory: modelDir, source: source, options: b)
            let s = try Searcher(index: path)
            let snap = try s.snapshot()
            scores[p] = try s.exactScores(try s.encode(texts), snapshot: snap)
            snap.close()
            bytes[p] = Double((try IndexInfo(index: path)).valueBytes["regions"] ?? 0) / Double(o.deviationImages)
            try? FileManager.default.removeItem(atPath: path)
        }
        let ref = scores[.float32]!
        out("")
        out("storage precision vs float32 (\(texts.count) queries x \(o.deviationImages) images, exact SCAN scores; random model, generated features):")
        for p in Precision.scalar {
            var m: Float = 0, sum = 0.0, n = 0, same = 0
            for (a, b) in zip(scores[p]!, ref) {
                for (x, y) in zip(a, b) { m = max(m, abs(x - y)); sum += Double(abs(x - y)); n += 1 }
                if TopK.select(a, k: 10) == TopK.select(b, k: 10) { same += 1 }
            }
            out(String(format: "  %@: %6.0f bytes/image of region records; max |d| %.2e, mean |d| %.2e; identical top-10 lists %d/%d",
                       p.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0), bytes[p]!, m, sum / Double(max(1, n)), same, ref.count))
        }
    }

    /// The cost of the prefilter scan alone at the largest size, for the fitted (P = prefilterDim)
    /// and the plain-mean (P = embed) layouts, float32 and float16 resident.
    static func prefilterScan(_ o: Options, out: (String) -> Void) throws {
        let n = o.sizes.max() ?? 100_000
        out("prefilter scan alone over \(n) images (dot products + top-100 selection), median of 20, ms:")
        var rng = SplitMix64(seed: 3)
        for p in [o.prefilterDim, o.embedSize] {
            var cells: [String] = []
            for storage in [ResidentPrefilter.Storage.float32, .float16] {
                let r = ResidentPrefilter(dim: p, storage: storage)
                let chunk = 10_000
                var done = 0
                while done < n {
                    let m = min(chunk, n - done)
                    r.append(rows: (0..<(m * p)).map { _ in rng.uniform() - 0.5 })
                    done += m
                }
                let q = (0..<p).map { _ in rng.uniform() - 0.5 }
                var times: [Double] = []
                for _ in 0..<23 {
                    let t = ProgressReporter.now()
                    let s = r.scores(q, rows: n)
                    _ = TopK.select(s, k: 100)
                    times.append(1000 * (ProgressReporter.now() - t))
                }
                cells.append(String(format: "%@ %d B/image: %.2f", storage.rawValue, r.bytesPerImage, Yardstick.percentile(Array(times.dropFirst(3)), 0.5)))
            }
            out("  P = \(p)\(p == o.prefilterDim ? " (fitted)" : " (plain mean)"): " + cells.joined(separator: "; "))
        }
    }

    /// Samples the process's resident memory (anonymous and file-backed, from /proc/self/status) every 20 ms.
    final class MemorySampler: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private var peakAnon = 0, peakFile = 0
        private var thread: Thread?

        init() {
            // The thread holds the sampler until `stop()` (a sampler dropped without it samples on:
            // an unowned reference here crashed when a short run released it first).
            let t = Thread { [self] in
                while true {
                    let (a, f) = Self.current()
                    self.lock.lock()
                    self.peakAnon = max(self.peakAnon, a)
                    self.peakFile = max(self.peakFile, f)
                    let go = self.running
                    self.lock.unlock()
                    if !go { return }
                    usleep(20_000)
                }
            }
            thread = t
            t.start()
        }

        /// Stops sampling; returns the peaks in bytes (anonymous, file-backed).
        @discardableResult
        func stop() -> (Int, Int) {
            let (a, f) = Self.current()
            lock.lock()
            running = false
            peakAnon = max(peakAnon, a)
            peakFile = max(peakFile, f)
            let r = (peakAnon, peakFile)
            lock.unlock()
            return r
        }

        static func current() -> (Int, Int) {
            guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
            var anon = 0, file = 0
            for line in text.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
                if parts[0] == "RssAnon:" { anon = kb * 1024 }
                if parts[0] == "RssFile:" { file = kb * 1024 }
            }
            return (anon, file)
        }
    }

}
