import Dispatch

/// Wall-clock laps (monotonic).
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds
    init() {}
    /// Seconds since the previous lap (or creation).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
