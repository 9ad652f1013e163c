import Foundation
import SCANCore
import SCANIndex
import TestSupport
import XCTest

final class CorruptionTests: XCTestCase {
    private func buildIndex(_ dir: String, count: Int = 6) throws {
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
        try w.append(Fixture.records(Fixture.ids(0..<count)))
        try w.markComplete()
    }

    /// The stored bytes of `key` in database `name` (copied; the environment is released on return).
    private func storedValue(_ dir: String, _ name: String, _ key: [UInt8]) throws -> [UInt8] {
        let r = try IndexReader(path: dir)
        let db = try r.environment.database(name)
        return try r.withSnapshot { s in Array(try XCTUnwrap(try s.rawValue(db, key: key))) }
    }

    /// Replaces a stored value through LMDB (a raw put, as a disk error inside a value would look).
    private func rawPut(_ dir: String, _ name: String, _ key: [UInt8], _ value: [UInt8]) throws {
        let env = try LMDBEnvironment.open(path: dir)
        let db = try env.database(name)
        try env.write { try $0.put(db, key: key, value: value) }
    }

    private func isCorrupt(_ db: String, _ key: String) -> (IndexError) -> Bool {
        { if case let .corruptRecord(d, k, _) = $0 { return d == db && k == key }; return false }
    }

    func testRawPutFlipsAreReportedByDecodeAndVerify() throws {
        let dir = makeTempDir(self)
        try buildIndex(dir)
        let key = IndexKey.encode(3)
        let regions = try storedValue(dir, "regions", key)
        var rng = TestRNG(seed: 42)
        for pos in [0, 5, 9, 17, 24, 27, RecordHeader.size, regions.count / 2, regions.count - 1] + (0..<10).map({ _ in rng.int(0..<regions.count) }) {
            var bad = regions
            bad[pos] ^= UInt8(1 << rng.int(0..<8))
            try rawPut(dir, "regions", key, bad)
            try checkCorrupt(dir, database: "regions", key: 3, "regions byte \(pos)")
        }
        try rawPut(dir, "regions", key, regions)
        XCTAssertTrue(try IndexReader(path: dir).verify().isOK)

        let prefilter = try storedValue(dir, "prefilter", key)
        for pos in [1, 26, prefilter.count - 3] {
            var bad = prefilter
            bad[pos] ^= 0x10
            try rawPut(dir, "prefilter", key, bad)
            try checkCorrupt(dir, database: "prefilter", key: 3, "prefilter byte \(pos)")
        }
        try rawPut(dir, "prefilter", key, prefilter)

        let metadata = try storedValue(dir, "metadata", key)
        for pos in [0, 9, metadata.count / 2, metadata.count - 1] {
            var bad = metadata
            bad[pos] ^= 0x04
            try rawPut(dir, "metadata", key, bad)
            try checkCorrupt(dir, database: "metadata", key: 3, "metadata byte \(pos)")
        }
        try rawPut(dir, "metadata", key, metadata)
        XCTAssertTrue(try IndexReader(path: dir).verify().isOK)
    }

    private func checkCorrupt(_ dir: String, database: String, key: UInt64, _ message: String) throws {
        let r = try IndexReader(path: dir)
        try r.withSnapshot { s in
            switch database {
            case "regions": XCTAssertIndexError(try s.regions(key), message, isCorrupt(database, String(key)))
            case "prefilter":
                XCTAssertIndexError(try s.prefilter(key), message, isCorrupt(database, String(key)))
                XCTAssertIndexError(try s.prefilterMatrix(), message, isCorrupt(database, String(key)))
            default: XCTAssertIndexError(try s.metadata(key), message, isCorrupt(database, String(key)))
            }
            // The other images still read fine.
            XCTAssertNoThrow(try s.regions(key == 0 ? 1 : 0), message)
        }
        let report = try r.verify()
        XCTAssertFalse(report.isOK, message)
        XCTAssertEqual(report.corruptKeys, [key], message + "\n" + report.summary)
        XCTAssertEqual(report.problems.map(\.database), [database], message)
        XCTAssertTrue(report.countsOK || database == "regions", message)
    }

    /// Flips bytes directly inside data.mdb (with every environment closed) where a region record is stored.
    func testFlippedBytesInDataFileAreDetected() throws {
        let dir = makeTempDir(self)
        try buildIndex(dir)
        let key: UInt64 = 4
        let value = try storedValue(dir, "regions", IndexKey.encode(key))
        let file = dir + "/data.mdb"
        let original = try Data(contentsOf: URL(fileURLWithPath: file))
        let start = try XCTUnwrap(original.range(of: Data(value))?.lowerBound, "record bytes not found in data.mdb")
        XCTAssertNil(original[(start + 1)...].range(of: Data(value)), "record bytes must be unique in the file")
        for offset in [0, 4, 8, 13, 20, 25, RecordHeader.size + 1, value.count / 2, value.count - 1] {
            var damaged = original
            damaged[start + offset] ^= 0x20
            try damaged.write(to: URL(fileURLWithPath: file))
            try checkCorrupt(dir, database: "regions", key: key, "data.mdb offset \(offset) of the record")
        }
        try original.write(to: URL(fileURLWithPath: file))
        XCTAssertTrue(try IndexReader(path: dir).verify().isOK)
    }

    func testVerifyReportsCountMismatchAndDanglingEntries() throws {
        let dir = makeTempDir(self)
        try buildIndex(dir)
        do {
            let env = try LMDBEnvironment.open(path: dir)
            let dbs = try IndexDatabases(env, create: false)
            try env.write { txn in
                XCTAssertTrue(try txn.delete(dbs.metadata, key: IndexKey.encode(2)))
                try txn.put(dbs.ids, key: Array("ghost".utf8), value: IndexKey.encode(99))
            }
        }
        let report = try IndexReader(path: dir).verify()
        XCTAssertFalse(report.countsOK)
        XCTAssertEqual(report.databaseCounts["metadata"], 5)
        XCTAssertEqual(report.databaseCounts["ids"], 7)
        XCTAssertEqual(report.corruptKeys, [2, 99])
        XCTAssertTrue(report.problems.contains { $0.database == "metadata" && $0.key == "2" }, report.summary)
        XCTAssertTrue(report.problems.contains { $0.database == "ids" && $0.key == "ghost" }, report.summary)
        // markComplete refuses an index whose counts disagree.
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
        XCTAssertIndexError(try w.markComplete()) { if case .badManifest = $0 { return true }; return false }
    }
}
