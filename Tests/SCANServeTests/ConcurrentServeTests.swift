import Foundation
import HummingbirdTesting
import SCANIndex
import SCANSearch
import SCANServe
import XCTest

/// Eight clients search while `scan-index add` commits batches to the same index: every answer is
/// one consistent snapshot (a committed image count, results only among the images of that
/// commit), each client sees the count only grow, and the images added appear without a restart.
final class ConcurrentServeTests: XCTestCase {
    override class func setUp() { _ = ServeWorld.shared }

    func testEightClientsSearchWhileAddCommits() async throws {
        let w = ServeWorld.shared
        let index = try w.freshIndex("concurrent")
        let ids = w.root + "/copies/train-ids-\(UUID().uuidString.prefix(8)).txt"
        try (0..<60).map { "train-\($0)" }.joined(separator: "\n").appending("\n").write(toFile: ids, atomically: true, encoding: .utf8)
        let service = try makeService(index: index)
        let initial = 40, batch = 6, added = 60
        let committed = Set(stride(from: initial, through: initial + added, by: batch)).union([initial + added])
        let captions = try w.testCaptions()
        let addition = Task.detached {
            var o = BuildOptions()
            o.batchSize = batch
            o.showProgress = false
            return try IndexBuilder.add(index: index, source: try PrecompFeatureSource(dataDirectory: w.world, split: "train", idsPath: ids), options: o)
        }
        let counts = try await withClient(service) { client in
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for c in 0..<8 {
                    group.addTask {
                        var seen: [Int] = []
                        for i in 0..<12 {
                            let mode = ["two-stage", "prefilter", "exact"][(c + i) % 3]
                            let r = try await get(client, "/search?q=\(escaped(captions[(c * 5 + i) % captions.count]))&top=100&candidates=100&mode=\(mode)")
                            XCTAssertEqual(r.status, 200, r.body)
                            let n = try XCTUnwrap(r.object["image_count"] as? Int)
                            let results = try XCTUnwrap(r.object["results"] as? [[String: Any]])
                            let resultIDs = results.compactMap { $0["id"] as? String }
                            XCTAssertEqual(resultIDs.count, min(100, n), "one snapshot: as many results as its images")
                            XCTAssertEqual(Set(resultIDs).count, resultIDs.count)
                            let visible = Set((0..<initial).map(String.init) + (0..<(n - initial)).map { "train-\($0)" })
                            XCTAssertTrue(Set(resultIDs).isSubset(of: visible), "results outside the snapshot of \(n) images")
                            if let last = seen.last { XCTAssertGreaterThanOrEqual(n, last, "the image count went back") }
                            seen.append(n)
                        }
                        return seen
                    }
                }
                var all: [Int] = []
                for try await s in group { all += s }
                return all
            }
        }
        print("image counts seen by the clients: \(Set(counts).sorted())")
        let report = try await addition.value
        XCTAssertEqual(report.appended, added)
        XCTAssertTrue(Set(counts).isSubset(of: committed), "counts \(Set(counts).sorted()) not all commit sizes \(committed.sorted())")
        let after = try await withClient(service) { try await get($0, "/info") }
        XCTAssertEqual(after.object["image_count"] as? Int, initial + added, "added images visible without a restart")
        let found = try await withClient(service) { try await get($0, "/images/train-59") }
        XCTAssertEqual(found.status, 200)
    }
}
