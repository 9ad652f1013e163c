import Dispatch
import Foundation

/// A wall-clock breakdown of a training step by phase, for the training benchmark. It is a hook that
/// is compiled out: unless the package is built with `-Xswiftc -DSCAN_PHASE_PROFILE`, `measure` only
/// runs its body and the gradient code carries no profiler state at all. Compiled in, the state lives
/// behind a lock (sections are timed from the calling thread only, never inside parallel loops).
public enum PhaseProfiler {
    /// Whether this build records phases (`-DSCAN_PHASE_PROFILE`).
    public static var isCompiledIn: Bool {
        #if SCAN_PHASE_PROFILE
        return true
        #else
        return false
        #endif
    }

    #if SCAN_PHASE_PROFILE
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var enabled = false
        var suspended = false
        var totals: [String: Double] = [:]
        var order: [String] = []
    }
    private static let state = State()
    #endif

    /// Turns recording on or off (no effect when compiled out).
    public static func setEnabled(_ on: Bool) {
        #if SCAN_PHASE_PROFILE
        state.lock.lock(); state.enabled = on; state.lock.unlock()
        #endif
    }

    /// The accumulated seconds per phase, in first-seen order, and resets them (empty when compiled out).
    public static func drain() -> [(label: String, seconds: Double)] {
        #if SCAN_PHASE_PROFILE
        state.lock.lock()
        defer { state.totals = [:]; state.order = []; state.lock.unlock() }
        return state.order.map { ($0, state.totals[$0] ?? 0) }
        #else
        return []
        #endif
    }

    @inline(__always)
    static func measure<R>(_ label: String, _ body: () throws -> R) rethrows -> R {
        #if SCAN_PHASE_PROFILE
        state.lock.lock()
        let on = state.enabled && !state.suspended
        state.lock.unlock()
        guard on else { return try body() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer {
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            state.lock.lock()
            if state.totals[label] == nil { state.order.append(label) }
            state.totals[label, default: 0] += dt
            state.lock.unlock()
        }
        return try body()
        #else
        return try body()
        #endif
    }

    /// Runs `body` (which works on several threads at once) with timing of inner sections off.
    @inline(__always)
    static func suspended<R>(_ body: () throws -> R) rethrows -> R {
        #if SCAN_PHASE_PROFILE
        state.lock.lock()
        let was = state.suspended
        state.suspended = true
        state.lock.unlock()
        defer { state.lock.lock(); state.suspended = was; state.lock.unlock() }
        #endif
        return try body()
    }
}
