import Foundation
import SCANCore
import SCANIndex
import TestSupport
import XCTest

final class IndexWriterReaderTests: XCTestCase {
    private func build(_ dir: String, batches: [[String]], precision: Precision = .float16, complete: Bool = true) throws {
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration(precision: precision))
        for b in batches { try w.append(Fixture.records(b)) }
        if complete { try w.markComplete() }
    }

    func testAppendInBatchesReopenAndResume() throws {
        let dir = makeTempDir(self)
        do {
            let w = try IndexWriter(path: dir, configuration: Fixture.configuration(precision: .float32))
            XCTAssertEqual(w.manifest.state, .building)
            let r1 = try w.append(Fixture.records(Fixture.ids(0..<5)))
            XCTAssertEqual(r1.appended, 5)
            XCTAssertEqual(r1.keys, [0, 1, 2, 3, 4])
            // A repeated id inside a batch is stored once.
            let r2 = try w.append(Fixture.records(Fixture.ids(5..<8) + ["img-6"]))
            XCTAssertEqual(r2.appended, 3)
            XCTAssertEqual(r2.skipped, ["img-6"])
            XCTAssertEqual(w.manifest.imageCount, 8)
            XCTAssertTrue(try w.contains(id: "img-7"))
            XCTAssertFalse(try w.contains(id: "img-8"))
        }
        // Reopen (a build re-run): existing ids are skipped, new ones appended after them.
        do {
            let w = try IndexWriter(path: dir, configuration: Fixture.configuration(precision: .float32))
            XCTAssertEqual(w.manifest.imageCount, 8)
            let r = try w.append(Fixture.records(Fixture.ids(6..<12)))
            XCTAssertEqual(r.appended, 4)
            XCTAssertEqual(r.skipped, ["img-6", "img-7"])
            XCTAssertEqual(r.keys, [8, 9, 10, 11])
            XCTAssertEqual(try w.append(Fixture.records(Fixture.ids(0..<3))).appended, 0)
            try w.markComplete()
            XCTAssertEqual(w.manifest.state, .complete)
        }
        let reader = try IndexReader(path: dir)
        let m = reader.manifest
        XCTAssertEqual(m.imageCount, 12)
        XCTAssertEqual(m.state, .complete)
        XCTAssertEqual(m.sources, ["unit-test"])
        XCTAssertEqual(m.modelFingerprint, "model-A")
        let expected = Fixture.records(Fixture.ids(0..<12))
        XCTAssertEqual(m.regionCount, expected.map { $0.regions.shape[0] }.reduce(0, +))
        try reader.withSnapshot { s in
            XCTAssertEqual(try s.keys(), Array(0..<12))
            for (i, rec) in expected.enumerated() {
                let key = try XCTUnwrap(try s.key(forID: rec.id))
                XCTAssertEqual(key, UInt64(i))
                XCTAssertEqual(try s.regions(key), rec.regions, "float32 regions are stored exactly")
                let md = try s.metadata(key)
                XCTAssertEqual(md, rec.metadata)
                XCTAssertEqual(try s.prefilter(key), rec.prefilter.map { Half.toFloat(Half.fromFloat([$0]))[0] })
                // Into a caller buffer.
                var buf = [Float](repeating: 0, count: 8 * Fixture.embedDim)
                let rows = try buf.withUnsafeMutableBufferPointer { try s.regions(key, into: $0) }
                XCTAssertEqual(Array(buf[0..<(rows * Fixture.embedDim)]), rec.regions.data)
            }
            XCTAssertNil(try s.key(forID: "img-99"))
            XCTAssertEqual(try s.regions([3, 1]).map(\.shape), [expected[3].regions.shape, expected[1].regions.shape])
        }
        let pm = try reader.prefilterMatrix()
        XCTAssertEqual(pm.keys, Array(0..<12))
        XCTAssertEqual(pm.dim, Fixture.prefilterDim)
        for i in 0..<12 {
            XCTAssertEqual(pm.row(i), expected[i].prefilter.map { Half.toFloat(Half.fromFloat([$0]))[0] })
        }
        let report = try reader.verify()
        XCTAssertTrue(report.isOK, report.summary)
        XCTAssertEqual(report.decodedRegionCount, m.regionCount)
        XCTAssertEqual(report.databaseCounts["ids"], 12)
    }

    func testIncompleteAndMissingIndexes() throws {
        let dir = makeTempDir(self)
        XCTAssertIndexError(try IndexReader(path: dir + "/nope")) { if case .missingIndex = $0 { return true }; return false }
        XCTAssertIndexError(try IndexReader(path: dir)) { if case .missingIndex = $0 { return true }; return false }
        try build(dir + "/idx", batches: [Fixture.ids(0..<3)], complete: false)
        XCTAssertIndexError(try IndexReader(path: dir + "/idx")) {
            if case let .incompleteIndex(_, state) = $0 { return state == "building" }; return false
        }
        let r = try IndexReader(path: dir + "/idx", allowIncomplete: true)
        XCTAssertEqual(r.manifest.imageCount, 3)
        // An LMDB environment without the index databases is not an index.
        let other = dir + "/other"
        do {
            let env = try LMDBEnvironment.open(path: other)
            let db = try env.database("something", create: true)
            try env.write { try $0.put(db, key: [1], value: [2]) }
        }
        XCTAssertIndexError(try IndexReader(path: other)) { if case .missingIndex = $0 { return true }; return false }
    }

    func testManifestMismatchAndFormatVersion() throws {
        let dir = makeTempDir(self)
        try build(dir, batches: [Fixture.ids(0..<2)])
        XCTAssertIndexError(try IndexWriter(path: dir, configuration: Fixture.configuration(fingerprint: "model-B"))) {
            if case let .manifestMismatch(_, field, expected, found) = $0 { return field == "model_fingerprint" && expected == "model-B" && found == "model-A" }
            return false
        }
        XCTAssertIndexError(try IndexWriter(path: dir, configuration: Fixture.configuration(embedDim: 32))) {
            if case let .manifestMismatch(_, field, _, _) = $0 { return field == "embed_dim" }; return false
        }
        XCTAssertIndexError(try IndexWriter(path: dir, configuration: Fixture.configuration(precision: .int8))) {
            if case let .manifestMismatch(_, field, _, _) = $0 { return field == "precision" }; return false
        }
        // A manifest from a future format version.
        do {
            let env = try LMDBEnvironment.open(path: dir)
            let dbs = try IndexDatabases(env, create: false)
            try env.write { txn in
                var json = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(try txn.get(dbs.manifest, key: IndexDatabases.manifestKey)))) as! [String: Any]
                json["format_version"] = 2
                try txn.put(dbs.manifest, key: IndexDatabases.manifestKey, value: Array(try JSONSerialization.data(withJSONObject: json)))
            }
        }
        XCTAssertIndexError(try IndexReader(path: dir)) {
            if case let .unsupportedFormatVersion(_, expected, found) = $0 { return expected == 1 && found == 2 }; return false
        }
    }

    func testWriterLockAndInvalidRecordsLeaveIndexUnchanged() throws {
        let dir = makeTempDir(self)
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
        XCTAssertIndexError(try IndexWriter(path: dir, configuration: Fixture.configuration())) {
            if case .writerLocked = $0 { return true }; return false
        }
        try w.append(Fixture.records(Fixture.ids(0..<2)))
        var bad = Fixture.records(Fixture.ids(2..<5))
        bad[2].regions.data[3] = .nan
        XCTAssertIndexError(try w.append(bad)) {
            if case let .invalidRecord(record, field, _, _) = $0 { return record == "img-4" && field == "regions[3]" }; return false
        }
        bad = Fixture.records(Fixture.ids(2..<5))
        bad[1].regions = Tensor(zeros: [2, Fixture.embedDim + 1])
        XCTAssertIndexError(try w.append(bad)) { if case let .invalidRecord(_, field, _, _) = $0 { return field == "regions" }; return false }
        bad = Fixture.records(Fixture.ids(2..<5))
        bad[0].prefilter = [1, 2]
        XCTAssertIndexError(try w.append(bad)) { if case let .invalidRecord(_, field, _, _) = $0 { return field == "prefilter" }; return false }
        bad = Fixture.records(Fixture.ids(2..<5))
        bad[0].boxes = [1, 2, 3]
        XCTAssertIndexError(try w.append(bad)) { if case let .invalidRecord(_, field, _, _) = $0 { return field == "boxes" }; return false }
        bad = Fixture.records([""])
        XCTAssertIndexError(try w.append(bad)) { if case let .invalidRecord(_, field, _, _) = $0 { return field == "id" }; return false }
        XCTAssertEqual(w.manifest.imageCount, 2)
        XCTAssertFalse(try w.contains(id: "img-2"))
        try w.markComplete()
        XCTAssertTrue(try IndexReader(path: dir).verify().isOK)
    }

    func testAppendingToCompleteIndexReturnsToBuilding() throws {
        let dir = makeTempDir(self)
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
        try w.append(Fixture.records(Fixture.ids(0..<2)))
        try w.markComplete()
        try w.append(Fixture.records(Fixture.ids(0..<2)))  // nothing new: state unchanged
        XCTAssertEqual(w.manifest.state, .complete)
        try w.append(Fixture.records(Fixture.ids(2..<3), source: "second"))
        XCTAssertEqual(w.manifest.state, .building)
        XCTAssertEqual(w.manifest.sources, ["unit-test", "second"])
        XCTAssertIndexError(try IndexReader(path: dir)) { if case .incompleteIndex = $0 { return true }; return false }
        try w.markComplete()
        XCTAssertEqual(try IndexReader(path: dir).manifest.imageCount, 3)
    }

    /// LMDB MVCC: a snapshot keeps seeing the commit it started on while a writer commits more batches.
    func testSnapshotIsolationWhileWriting() throws {
        let dir = makeTempDir(self)
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
        try w.append(Fixture.records(Fixture.ids(0..<4)))
        let reader = try IndexReader(path: dir, allowIncomplete: true)
        let old = try reader.snapshot()
        let oldRegions = try old.regions(2)
        let oldMatrix = try old.prefilterMatrix()

        try w.append(Fixture.records(Fixture.ids(4..<10)))
        try w.markComplete()

        // The old snapshot, used from another thread (MDB_NOTLS), still sees 4 images.
        let done = expectation(description: "other thread")
        DispatchQueue.global().async {
            XCTAssertEqual(old.count, 4)
            XCTAssertEqual(old.manifest.state, .building)
            XCTAssertEqual(try? old.keys().count, 4)
            XCTAssertEqual(try? old.entryCount(old.databases.metadata), 4)
            XCTAssertEqual(try? old.key(forID: "img-7"), .some(nil))
            XCTAssertEqual(try? old.regions(2), oldRegions)
            XCTAssertEqual(try? old.prefilterMatrix().values, oldMatrix.values)
            XCTAssertEqual(try? old.verifyCounts(), true)
            done.fulfill()
        }
        wait(for: [done], timeout: 10)

        let new = try reader.snapshot()
        XCTAssertEqual(new.count, 10)
        XCTAssertEqual(new.manifest.state, .complete)
        XCTAssertEqual(try new.keys().count, 10)
        XCTAssertEqual(try new.key(forID: "img-7"), 7)
        XCTAssertEqual(try new.regions(2), oldRegions)
        XCTAssertNotEqual(new.transactionID, old.transactionID)
        XCTAssertEqual(try new.prefilterMatrix().count, 10)
        old.close()
        new.close()
        XCTAssertThrowsError(try old.regions(2))
    }

    func testConcurrentReadsWithinOneSnapshot() throws {
        let dir = makeTempDir(self)
        try build(dir, batches: [Fixture.ids(0..<64)])
        let reader = try IndexReader(path: dir)
        let expected = Fixture.records(Fixture.ids(0..<64))
        try reader.withSnapshot { s in
            var ok = [Bool](repeating: false, count: 64 * 8)
            ok.withUnsafeMutableBufferPointer { o in
                DispatchQueue.concurrentPerform(iterations: o.count) { i in
                    let k = i % 64
                    if let t = try? s.regions(UInt64(k)), let md = try? s.metadata(UInt64(k)) {
                        o[i] = t.shape == expected[k].regions.shape && md.id == expected[k].id
                    }
                }
            }
            XCTAssertTrue(ok.allSatisfy { $0 })
        }
    }
}

extension IndexSnapshot {
    /// Every per-image database holds the manifest's image count.
    func verifyCounts() throws -> Bool {
        try databases.perImage.allSatisfy { try entryCount($0) == manifest.imageCount }
    }
}

final class IndexStorageDetailTests: XCTestCase {
    func testRegionBatchIsContiguousInRequestOrder() throws {
        let dir = makeTempDir(self)
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration(precision: .float32))
        try w.append(Fixture.records(Fixture.ids(0..<10)))
        try w.markComplete()
        let expected = Fixture.records(Fixture.ids(0..<10))
        let r = try IndexReader(path: dir)
        let batch = try r.withSnapshot { try $0.regionBatch([7, 2, 9, 2]) }
        XCTAssertEqual(batch.keys, [7, 2, 9, 2])
        XCTAssertEqual(batch.dim, Fixture.embedDim)
        var flat: [Float] = []
        for k in [7, 2, 9, 2] { flat += expected[k].regions.data }
        XCTAssertEqual(batch.values, flat)
        XCTAssertEqual(batch.rows(of: 1).count, expected[2].regions.shape[0])
        XCTAssertEqual(batch.totalRows * batch.dim, flat.count)
        XCTAssertIndexError(try r.withSnapshot { try $0.regionBatch([3, 42]) }) {
            if case let .missingRecord(db, key) = $0 { return db == "regions" && key == "42" }; return false
        }
    }

    /// A small map fills up; the writer doubles it and retries the batch.
    func testMapGrowsWhenFull() throws {
        let dir = makeTempDir(self)
        var c = Fixture.configuration(precision: .float32, compressionLevel: 0)
        c.mapSize = 128 << 10
        let w = try IndexWriter(path: dir, configuration: c)
        let start = w.environment.mapSize
        for b in 0..<8 { try w.append(Fixture.records(Fixture.ids((b * 50)..<(b * 50 + 50)))) }
        XCTAssertGreaterThan(w.environment.mapSize, start)
        try w.markComplete()
        let report = try IndexReader(path: dir).verify()
        XCTAssertTrue(report.isOK, report.summary)
        XCTAssertEqual(report.manifest.imageCount, 400)
    }

    func testManifestJSONFieldNames() throws {
        let m = IndexManifest(modelFingerprint: "f", modelName: "n", embedDim: 4, imgDim: 8, precision: .int8,
                              prefilterKind: .projection, prefilterDim: 2, prefilterPrecision: .float16, sources: ["s"])
        let json = try JSONSerialization.jsonObject(with: Data(m.jsonBytes())) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["format_version", "state", "model_fingerprint", "model_name", "embed_dim", "img_dim", "precision",
                                        "prefilter_kind", "prefilter_dim", "prefilter_precision", "image_count", "deleted_count", "region_count",
                                        "created_at", "updated_at", "sources"])
        XCTAssertEqual(json["state"] as? String, "building")
        XCTAssertEqual(json["precision"] as? String, "int8")
        XCTAssertEqual(json["prefilter_kind"] as? String, "projection")
        let back = try m.jsonBytes().withUnsafeBytes { try IndexManifest.decode($0, path: "p") }
        XCTAssertEqual(back, m)
        XCTAssertIndexError(try Array("{\"format_version\": 1}".utf8).withUnsafeBytes { try IndexManifest.decode($0, path: "p") }) {
            if case .badManifest = $0 { return true }; return false
        }
    }
}
