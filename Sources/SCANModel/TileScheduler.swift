import Foundation

/// Hands out tile indices 0..<count to worker threads, first come first served, so that a core
/// slowed by other work on a shared machine simply takes fewer tiles; also serialises progress reports.
final class TileScheduler: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private var nextTile = 0
    private var done = 0

    init(count: Int) { self.count = count }

    /// The next tile to compute, or nil when all are taken.
    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextTile < count else { return nil }
        nextTile += 1
        return nextTile - 1
    }

    /// Adds `pairs` to the finished count and reports the new total, one report at a time.
    func finished(_ pairs: Int, report: (Int) -> Void) {
        lock.lock(); defer { lock.unlock() }
        done += pairs
        report(done)
    }
}
