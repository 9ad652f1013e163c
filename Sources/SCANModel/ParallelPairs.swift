import SCANCore

/// Spreads independent per-pair work over the cores (a thin name for `Parallel.forEach`).
enum ParallelPairs {
    static func forEach(_ count: Int, _ body: (Int) -> Void) { Parallel.forEach(count, body) }
}
