import Dispatch

/// Optional wall-clock breakdown of a training step by phase (for the benchmark). Off by default;
/// sections are timed from the calling thread only, never from inside parallel loops.
public enum PhaseProfiler {
    nonisolated(unsafe) public static var enabled = false
    /// Set around regions that run on several threads at once (their inner sections are not timed).
    nonisolated(unsafe) static var suspended = false
    nonisolated(unsafe) static var totals: [String: Double] = [:]
    nonisolated(unsafe) static var order: [String] = []

    @inline(__always)
    static func measure<R>(_ label: String, _ body: () throws -> R) rethrows -> R {
        guard enabled && !suspended else { return try body() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer {
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if totals[label] == nil { order.append(label) }
            totals[label, default: 0] += dt
        }
        return try body()
    }

    /// The accumulated seconds per phase, in first-seen order, and resets them.
    public static func drain() -> [(label: String, seconds: Double)] {
        defer { totals = [:]; order = [] }
        return order.map { ($0, totals[$0]!) }
    }
}
