import Foundation
import SCANCore
import XCTest

final class ParallelTests: XCTestCase {
    /// Ranges handed out by `forChunks`, collected under a lock.
    private func chunks(_ count: Int) -> [Range<Int>] {
        let lock = NSLock()
        var seen: [Range<Int>] = []
        Parallel.forChunks(count) { r in lock.lock(); seen.append(r); lock.unlock() }
        return seen.sorted { $0.lowerBound < $1.lowerBound }
    }

    func testChunksCoverTheRangeOnce() {
        let seen = chunks(1000)
        XCTAssertEqual(seen.count, min(Parallel.cores, 1000))
        XCTAssertEqual(seen.flatMap { Array($0) }, Array(0..<1000))
    }

    func testThreadLimitOfOneRunsOneChunkOnTheCallingThread() {
        let caller = pthread_self()
        let (seen, sameThread, available) = Parallel.withThreadLimit(1) { () -> ([Range<Int>], Bool, Int) in
            var same = true
            var ranges: [Range<Int>] = []
            Parallel.forChunks(1000) { r in ranges.append(r); same = same && pthread_equal(pthread_self(), caller) != 0 }
            return (ranges, same, Parallel.available)
        }
        XCTAssertEqual(seen, [0..<1000])
        XCTAssertTrue(sameThread)
        XCTAssertEqual(available, 1)
        XCTAssertEqual(Parallel.available, Parallel.cores, "the limit ends with withThreadLimit")
    }

    func testThreadLimitIsPerThread() {
        final class Seen: @unchecked Sendable { var value = 0 }
        let other = DispatchSemaphore(value: 0)
        let seen = Seen()
        Parallel.withThreadLimit(1) {
            Thread.detachNewThread { seen.value = Parallel.available; other.signal() }
            other.wait()
        }
        XCTAssertEqual(seen.value, Parallel.cores)
    }

    func testNestedLimitsRestoreTheOuterOne() {
        Parallel.withThreadLimit(2) {
            Parallel.withThreadLimit(1) { XCTAssertEqual(Parallel.available, 1) }
            XCTAssertEqual(Parallel.available, min(2, Parallel.cores))
        }
    }
}
