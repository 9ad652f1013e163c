import Foundation

/// Progress with rate and ETA on stderr: a redrawn line on a terminal, a line every few seconds
/// otherwise (logs). Silent when `SCAN_QUIET` is set.
public final class ProgressReporter: @unchecked Sendable {
    public let label: String
    public let total: Int
    public let unit: String
    private let start: Double
    private var lastPrint: Double = 0
    private var lastDone = -1
    private let interactive: Bool
    private let enabled: Bool
    private let lock = NSLock()

    public init(label: String, total: Int, unit: String) {
        self.label = label; self.total = total; self.unit = unit
        start = ProgressReporter.now()
        interactive = isatty(2) != 0
        enabled = ProcessInfo.processInfo.environment["SCAN_QUIET"] == nil
    }

    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public var elapsed: Double { ProgressReporter.now() - start }

    static func clock(_ s: Double) -> String {
        guard s.isFinite else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%02d:%02d", t / 60, t % 60)
    }

    public func update(_ done: Int, force: Bool = false) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let t = ProgressReporter.now()
        let interval = interactive ? 0.25 : 5.0
        if !force && t - lastPrint < interval && done < total { return }
        if done == lastDone && done == total { return }
        lastPrint = t
        lastDone = done
        let el = t - start
        let rate = el > 0 ? Double(done) / el : 0
        let eta = rate > 0 ? Double(total - done) / rate : .infinity
        let pct = total > 0 ? 100 * Double(done) / Double(total) : 100
        let line = String(format: "%@: %d/%d %@ (%.1f%%), %.1f %@/s, elapsed %@, ETA %@",
                          label, done, total, unit, pct, rate, unit, Self.clock(el), Self.clock(eta))
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + (interactive ? "" : "\n")).utf8))
    }

    public func finish() {
        guard enabled else { return }
        update(total, force: true)
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
