import Dispatch
import Foundation

/// Work splitting over the machine's cores.
public enum Parallel {
    /// Number of worker threads to use (the `SCAN_THREADS` environment variable overrides).
    public static let cores: Int = {
        if let s = ProcessInfo.processInfo.environment["SCAN_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// The cores work started on the calling thread may use: `cores`, or less inside `withThreadLimit`.
    public static var available: Int { min(cores, ThreadLimit.current ?? cores) }

    /// Runs `body` with the work it splits (`forChunks`, `forEach`, `available`) limited to `threads`
    /// cores, on this thread only. A server answering many queries at once gives each one core: the
    /// queries then run side by side instead of each taking every core in turn, which costs the
    /// split's overhead and idles cores at each query's serial parts.
    public static func withThreadLimit<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        let previous = ThreadLimit.current
        ThreadLimit.current = max(1, threads)
        defer { ThreadLimit.current = previous }
        return try body()
    }

    /// Runs `body(chunkRange)` over `0..<count` split into about `available` contiguous chunks.
    public static func forChunks(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = max(1, min(available, count / max(1, minChunk)))
        if chunks == 1 { body(0..<count); return }
        let per = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per
            let hi = min(count, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(i)` for every i in `0..<count`, spread over the cores.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forChunks(count) { r in for i in r { body(i) } }
    }
}
