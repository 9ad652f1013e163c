import Foundation
import SCANCore
import SCANIndex
import SCANModel

/// Throughput of product-quantisation encoding (nearest centroid per sub-space) on paper-size
/// regions (36 x 1024, l2-normalised) with a codebook trained on them: every kernel path on one
/// thread, one call per image as the index writer makes them, then the record encode spread over
/// the cores as `IndexWriter.append` does, each timed against the first kernel's row-by-row loop in
/// the same run. Every path's codes are checked equal to the yardstick's. The cores are shared with
/// other work, so one-thread rates are per second of the thread's own CPU time (wall time beside
/// them), and rates over the cores print the process's CPU seconds beside the wall time.
public struct PQEncodeBenchmark {
    public var images = 200
    public var rows = 36
    public var dim = 1024
    public var precision: Precision = .pq4
    public var repeats = 3

    public init() {}

    public func run(out: (String) -> Void = { print($0) }) throws {
        guard let subDim = precision.subDim else {
            throw IndexError.invalidRecord(record: "pq-encode", field: "precision", expected: "pq4, pq8, pq16 or pq32", found: precision.rawValue)
        }
        out("load average before: \(Yardstick.loadAverage()); \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var rng = SplitMix64(seed: 3)
        let (rows, dim, n) = (self.rows, self.dim, images)
        var x = (0..<(n * rows * dim)).map { _ in rng.uniform(-1, 1) }
        VectorOps.l2normalizeRows(&x, dim: dim)
        var trainer = ProductQuantizerTrainer()
        trainer.iterations = 3
        let sampleRows = min(n, 50) * rows
        let t0 = Yardstick.now()
        let pq = try trainer.train(Array(x.prefix(sampleRows * dim)), rows: sampleRows, dim: dim, subDim: subDim)
        out(String(format: "codebook: %@, %d sub-spaces x %d centroids x %d dims, k-means on %d rows x %d iterations: %.2f s (its assignment step runs encode on the cores)",
                   precision.rawValue, pq.subspaces, pq.centroidCount, subDim, sampleRows, trainer.iterations, Yardstick.now() - t0))
        let regions = Double(n * rows)
        let flop = regions * Double(dim) * Double(pq.centroidCount) * 2
        func line(_ what: String, _ seconds: Double, wall: Double, cpu: Double? = nil) -> String {
            String(format: "%-50@ %8.0f regions/s %6.0f images/s %6.2f GFLOP/s  (median %.3f s %@ for %d images; wall %.3f s%@)",
                   what as NSString, regions / seconds, Double(n) / seconds, flop / seconds / 1e9, seconds,
                   cpu == nil ? "thread CPU" : "wall", n, wall, cpu.map { String(format: ", process CPU %.3f s", $0) } ?? "")
        }
        var codes: [ProductQuantizerAssignmentPath: [UInt8]] = [:]
        var singleThread: [ProductQuantizerAssignmentPath: Double] = [:]
        let paths = ProductQuantizerAssignmentPath.allCases.filter { $0.isAvailable && $0 != .portable } + [.portable]
        for path in paths {
            var c = [UInt8](repeating: 0, count: n * rows * pq.codeBytes)
            // The portable path is scalar (its fused multiply-add is a libm call without FMA hardware): one pass over two images.
            let count = path == .portable ? min(n, 2) : n
            var times: [Double] = [], walls: [Double] = []
            for _ in 0..<(path == .portable ? 1 : repeats) {
                let t = Self.threadCPUSeconds(), w = Yardstick.now()
                x.withUnsafeBufferPointer { xp in
                    c.withUnsafeMutableBufferPointer { cp in
                        for i in 0..<count {
                            _ = pq.encode(xp.baseAddress! + i * rows * dim, rows: rows, into: cp.baseAddress! + i * rows * pq.codeBytes, path: path)
                        }
                    }
                }
                let scale = Double(n) / Double(count)
                times.append((Self.threadCPUSeconds() - t) * scale)
                walls.append((Yardstick.now() - w) * scale)
            }
            singleThread[path] = Yardstick.median(times)
            codes[path] = Array(c.prefix(count * rows * pq.codeBytes))
            out(line("\(path.rawValue), 1 thread" + (path == .rowwise ? " (the first kernel)" : "") + (path == .portable ? " (\(count) images, scaled)" : ""),
                     Yardstick.median(times), wall: Yardstick.median(walls)))
        }
        let yard = codes[.rowwise] ?? []
        for (path, c) in codes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where path != .rowwise {
            let same = c == Array(yard.prefix(c.count))
            out("  \(path.rawValue): codes \(same ? "identical to" : "DIFFERENT FROM") the first kernel's")
        }
        if let before = singleThread[.rowwise], let after = singleThread[ProductQuantizerAssignmentPath.fastest] {
            out(String(format: "speed-up of the %@ path over the first kernel, one thread: %.2fx", ProductQuantizerAssignmentPath.fastest.rawValue, before / after))
        }

        // The index writer's parallel encode: one checksummed pq record per image, images over the cores.
        let codec = RecordCodec(precision: precision, compressionLevel: 3, codebook: pq)
        let tensors = (0..<n).map { i in Tensor(shape: [rows, dim], data: Array(x[(i * rows * dim)..<((i + 1) * rows * dim)])) }
        var walls: [Double] = [], cpus: [Double] = []
        var failures = 0
        for _ in 0..<repeats {
            let lock = NSLock()
            let t = Yardstick.now(), c0 = Yardstick.cpuSeconds()
            Parallel.forEach(n) { i in
                if (try? codec.encodeRegions(tensors[i], record: "im\(i)")) == nil { lock.lock(); failures += 1; lock.unlock() }
            }
            walls.append(Yardstick.now() - t)
            cpus.append(Yardstick.cpuSeconds() - c0)
        }
        out(line("\(precision.rawValue) records (encodeRegions), \(Parallel.cores) threads", Yardstick.median(walls), wall: Yardstick.median(walls), cpu: Yardstick.median(cpus))
            + (failures > 0 ? " \(failures) FAILED" : ""))
        var rowwiseWalls: [Double] = [], rowwiseCPUs: [Double] = []
        for _ in 0..<repeats {
            let t = Yardstick.now(), c0 = Yardstick.cpuSeconds()
            x.withUnsafeBufferPointer { xp in
                var c = [UInt8](repeating: 0, count: n * rows * pq.codeBytes)
                c.withUnsafeMutableBufferPointer { cp in
                    let xb = xp.baseAddress!, cb = cp.baseAddress!
                    Parallel.forEach(n) { i in _ = pq.encode(xb + i * rows * dim, rows: rows, into: cb + i * rows * pq.codeBytes, path: .rowwise) }
                }
            }
            rowwiseWalls.append(Yardstick.now() - t)
            rowwiseCPUs.append(Yardstick.cpuSeconds() - c0)
        }
        out(line("rowwise codes only, \(Parallel.cores) threads (the first kernel)", Yardstick.median(rowwiseWalls), wall: Yardstick.median(rowwiseWalls), cpu: Yardstick.median(rowwiseCPUs)))
        // From CPU seconds: what the cores would take if nothing else ran on them.
        let cores = Double(Parallel.cores)
        out(String(format: "projection from CPU time: 1,000,000 images of %d x %d encode in %.1f min on %d idle cores; the first kernel: %.0f min",
                   rows, dim, Yardstick.median(cpus) / Double(n) * 1e6 / 60 / cores, Parallel.cores, Yardstick.median(rowwiseCPUs) / Double(n) * 1e6 / 60 / cores))
        out("load average after: \(Yardstick.loadAverage())")
    }

    /// CPU seconds of the calling thread.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
