import Foundation
import HummingbirdTesting
import SCANIndex
import SCANSearch
import SCANServe
import TestSupport
import XCTest

/// A flipped byte in one image's record: the service answers with the other images and names the
/// skipped one; `scan-search` fails by default and skips behind `--skip-corrupt`.
final class CorruptRecordTests: XCTestCase {
    override class func setUp() { _ = ServeWorld.shared }

    /// Flips one byte in the middle of the stored value of `key` in database `name` (a raw LMDB put).
    private func corrupt(_ index: String, _ name: String, key: UInt64) throws {
        let env = try LMDBEnvironment.open(path: index)
        let db = try env.database(name)
        try env.write { txn in
            var value = Array(try XCTUnwrap(try txn.get(db, key: IndexKey.encode(key))))
            value[value.count / 2] ^= 0x40
            _ = try txn.put(db, key: IndexKey.encode(key), value: value)
        }
    }

    /// Ids of the exact ranking of the intact index, without `excluded`.
    private func exactIDs(_ q: String, top: Int, excluding excluded: String) throws -> [String] {
        let hits = try Searcher(index: ServeWorld.shared.index).search(query: q, top: top + 1, exact: true)
        return Array(hits.map(\.id).filter { $0 != excluded }.prefix(top))
    }

    func testCorruptRegionsAreSkippedNamedAndCounted() async throws {
        let index = try ServeWorld.shared.freshIndex("regions")
        try corrupt(index, "regions", key: 7)
        let q = try ServeWorld.shared.testCaptions()[7]
        let service = try makeService(index: index)
        try await withClient(service) { client in
            for uri in ["/search?q=\(escaped(q))&mode=exact&top=10", "/search?q=\(escaped(q))&top=10&candidates=40"] {
                let r = try await get(client, uri)
                XCTAssertEqual(r.status, 200, r.body)
                let skipped = try XCTUnwrap(r.object["skipped"] as? [[String: Any]])
                XCTAssertEqual(skipped.count, 1, r.body)
                XCTAssertEqual(skipped.first?["id"] as? String, "7")
                XCTAssertEqual(skipped.first?["key"] as? Int, 7)
                XCTAssertTrue((skipped.first?["reason"] as? String)?.contains("regions") ?? false)
                let ids = try XCTUnwrap(r.object["results"] as? [[String: Any]]).compactMap { $0["id"] as? String }
                XCTAssertEqual(ids, try exactIDs(q, top: 10, excluding: "7"), uri)
                XCTAssertEqual(try XCTUnwrap(r.object["results"] as? [[String: Any]]).map { $0["rank"] as? Int }, (1...10).map { $0 })
            }
            let metrics = try await get(client, "/metrics").body
            XCTAssertTrue(metrics.contains("scan_serve_corrupt_skips_total 2"), metrics)
            XCTAssertTrue(metrics.contains("scan_serve_corrupt_images 1"), metrics)
            XCTAssertFalse(metrics.contains("status=\"500\""), metrics)
        }
        // The shell: an error naming the image by default, the same answer as the service with the flag.
        let failing = try ToolRunner.run("scan-search", [q, "--index", index, "--exact", "--json"])
        XCTAssertNotEqual(failing.status, 0)
        XCTAssertTrue(failing.stderr.contains("image '7'"), failing.stderr)
        let skipping = try ToolRunner.run("scan-search", [q, "--index", index, "--exact", "--json", "--skip-corrupt"])
        XCTAssertEqual(skipping.status, 0, skipping.stderr)
        XCTAssertTrue(skipping.stderr.contains("skipped image '7'"), skipping.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(skipping.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((parsed["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, try exactIDs(q, top: 10, excluding: "7"))
    }

    func testCorruptPrefilterVectorAndMetadataAreSkipped() async throws {
        let index = try ServeWorld.shared.freshIndex("prefilter")
        try corrupt(index, "prefilter", key: 4)
        try corrupt(index, "metadata", key: 11)
        let q = try ServeWorld.shared.testCaptions()[4]
        // The library without skipping still fails, naming the record.
        let strict = try Searcher(index: index)
        XCTAssertThrowsError(try strict.search(query: q, top: 5)) { XCTAssertTrue("\($0)".contains("prefilter"), "\($0)") }
        let service = try makeService(index: index)
        try await withClient(service) { client in
            let r = try await get(client, "/search?q=\(escaped(q))&top=40&candidates=40")
            XCTAssertEqual(r.status, 200, r.body)
            let skipped = try XCTUnwrap(r.object["skipped"] as? [[String: Any]])
            XCTAssertEqual(Set(skipped.compactMap { $0["key"] as? Int }), [4, 11], r.body)
            let ids = try XCTUnwrap(r.object["results"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            XCTAssertEqual(ids.count, 38)
            XCTAssertFalse(ids.contains("4") || ids.contains("11"))
            let p = try await get(client, "/search?q=\(escaped(q))&top=5&mode=prefilter")
            XCTAssertEqual(p.status, 200, p.body)
            XCTAssertEqual((p.object["results"] as? [Any])?.count, 5)
            let meta = try await get(client, "/images/11")
            XCTAssertEqual(meta.status, 404, meta.body)
            XCTAssertTrue(meta.body.contains("corrupt"), meta.body)
        }
    }
}
