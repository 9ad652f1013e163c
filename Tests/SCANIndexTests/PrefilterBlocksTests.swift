import Foundation
import SCANCore
import SCANIndex
import TestSupport
import XCTest

/// `prefilter_blocks` repeats the prefilter records 128 keys to a value; the per-key `prefilter`
/// database, written by another path, is the independent truth every test compares with.
final class PrefilterBlocksTests: XCTestCase {
    /// Every key's row in the blocks, against its own record (nil when the blocks miss it).
    private func rows(_ s: IndexSnapshot) throws -> [(block: [UInt8]?, record: [UInt8])] {
        let keys = (0..<UInt64(s.count)).map { $0 }
        let got = try s.prefilterRecords(sortedKeys: keys)
        return try keys.map { k in
            (got[Int(k)].map { Array($0) }, Array(try XCTUnwrap(try s.rawValue(s.databases.prefilter, key: IndexKey.encode(k)))))
        }
    }

    /// A fresh index of `n` images (not marked complete) and its environment, databases and blocks.
    private func indexWithBlocks(_ n: Int) throws -> (dir: String, env: LMDBEnvironment, dbs: IndexDatabases, blocks: LMDBDatabase) {
        let dir = makeTempDir(self)
        do {
            let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
            try w.append(Fixture.records(Fixture.ids(0..<n)))
        }
        let env = try LMDBEnvironment.open(path: dir)
        let dbs = try IndexDatabases(env, create: false)
        return (dir, env, dbs, try XCTUnwrap(dbs.prefilterBlocks))
    }

    private func blockCount(_ dir: String) throws -> Int {
        try IndexReader(path: dir, allowIncomplete: true).withSnapshot { s in try s.entryCount(try XCTUnwrap(s.databases.prefilterBlocks)) }
    }

    func testBlocksHoldEveryKeysRecordAcrossCommitsDeletesAndReplaces() throws {
        let dir = makeTempDir(self)
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
        var next = 0
        // Batch sizes that end inside blocks, on a block's last row and past several blocks.
        for n in [50, 78, 1, 7, 200, 128] {
            try w.append(Fixture.records(Fixture.ids(next..<(next + n))))
            next += n
            let r = try IndexReader(path: dir, allowIncomplete: true)
            try r.withSnapshot { s in
                XCTAssertEqual(s.count, next)
                for (k, row) in try rows(s).enumerated() { XCTAssertEqual(row.block, row.record, "key \(k) after \(next) images") }
                // A key past the snapshot has no row.
                XCTAssertNil(try s.prefilterRecords(sortedKeys: [UInt64(next)])[0])
            }
            XCTAssertEqual(try blockCount(dir), (next + 127) / 128)
            let report = try r.verify()
            XCTAssertTrue(report.isOK, report.summary)
        }
        // A delete keeps the key's vector; a replace gives the id a new key at the end.
        try w.delete(ids: ["img-3", "img-130"])
        var replaced = Fixture.records(["img-5"])
        replaced[0].prefilter = replaced[0].prefilter.map { $0 * 0.5 }
        try w.append(replaced, replace: true)
        try w.markComplete()
        let r = try IndexReader(path: dir, allowIncomplete: true)
        try r.withSnapshot { s in
            XCTAssertEqual(s.count, next + 1)
            for (k, row) in try rows(s).enumerated() { XCTAssertEqual(row.block, row.record, "key \(k) after a delete and a replace") }
            for (a, b) in zip(try s.prefilter(UInt64(next)), replaced[0].prefilter) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        }
        let report = try r.verify()
        XCTAssertTrue(report.isOK, report.summary)
    }

    /// An index whose blocks stop short (written by a build without them) reads each missing key's
    /// own record, verify names what is missing, and the next writer to open it fills them in.
    func testMissingBlocksAreFilledInByTheNextWriter() throws {
        let dir = makeTempDir(self)
        do {
            let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
            try w.append(Fixture.records(Fixture.ids(0..<300)))
            try w.markComplete()
        }
        do {
            let env = try LMDBEnvironment.open(path: dir)
            let dbs = try IndexDatabases(env, create: false)
            let blocks = try XCTUnwrap(dbs.prefilterBlocks)
            try env.write { txn in
                XCTAssertTrue(try txn.delete(blocks, key: IndexKey.encode(2)))
                XCTAssertTrue(try txn.delete(blocks, key: IndexKey.encode(1)))
            }
        }
        let r = try IndexReader(path: dir, allowIncomplete: true)
        try r.withSnapshot { s in
            let got = try rows(s)
            XCTAssertEqual(got.filter { $0.block == nil }.count, 300 - 128)
            for row in got.prefix(128) { XCTAssertEqual(row.block, row.record) }
        }
        let report = try r.verify()
        XCTAssertFalse(report.isOK)
        XCTAssertEqual(report.corruptKeys, [], "no image is damaged: its own record is intact")
        XCTAssertEqual(report.problems.map(\.database), ["prefilter_blocks"], report.summary)
        XCTAssertTrue(report.problems[0].reason.contains("needs 3 blocks, found 1"), report.summary)

        _ = try IndexWriter(path: dir, configuration: Fixture.configuration())
        try IndexReader(path: dir, allowIncomplete: true).withSnapshot { s in
            for (k, row) in try rows(s).enumerated() { XCTAssertEqual(row.block, row.record, "key \(k)") }
        }
        XCTAssertTrue(try IndexReader(path: dir, allowIncomplete: true).verify().isOK)
    }

    /// A damaged row of a block is reported by verify (naming the block, row and key), and a last
    /// block that is not whole records is rebuilt by the next writer.
    func testDamagedBlocksAreReported() throws {
        let (dir, env, _, blocks) = try indexWithBlocks(140)
        let original = try env.read { Array(try XCTUnwrap(try $0.get(blocks, key: IndexKey.encode(0)))) }
        let stride = original.count / 128
        XCTAssertEqual(stride, RecordHeader.size + 2 * Fixture.prefilterDim)
        // A flipped payload byte in row 9 (a record that no longer matches its checksum) and a
        // row that is a valid record of another key both differ from key 9's own record.
        var flipped = original
        flipped[9 * stride + RecordHeader.size + 1] ^= 0x40
        var swapped = original
        swapped.replaceSubrange((9 * stride)..<(10 * stride), with: original[(10 * stride)..<(11 * stride)])
        for (name, bad) in [("flipped", flipped), ("swapped", swapped)] {
            try env.write { try $0.put(blocks, key: IndexKey.encode(0), value: bad) }
            let report = try IndexReader(path: dir, allowIncomplete: true).verify()
            XCTAssertEqual(report.problems.map(\.database), ["prefilter_blocks"], name + "\n" + report.summary)
            XCTAssertTrue(report.problems.first?.reason.contains("row 9 (key 9)") == true, name + "\n" + report.summary)
            XCTAssertEqual(report.corruptKeys, [], name)
        }
        try env.write { try $0.put(blocks, key: IndexKey.encode(0), value: original) }
        XCTAssertTrue(try IndexReader(path: dir, allowIncomplete: true).verify().isOK)

        // The last block cut inside a record: verify names it, and the next writer rebuilds it
        // from the records (blocks are derived; a damaged one never stops a write).
        let last = try env.read { Array(try XCTUnwrap(try $0.get(blocks, key: IndexKey.encode(1)))) }
        try env.write { try $0.put(blocks, key: IndexKey.encode(1), value: Array(last.dropLast(5))) }
        let cut = try IndexReader(path: dir, allowIncomplete: true).verify()
        XCTAssertTrue(cut.problems.contains { $0.database == "prefilter_blocks" && $0.key == "1" }, cut.summary)
        _ = try IndexWriter(path: dir, configuration: Fixture.configuration())
        XCTAssertEqual(try env.read { Array(try XCTUnwrap(try $0.get(blocks, key: IndexKey.encode(1)))) }, last)
        XCTAssertTrue(try IndexReader(path: dir, allowIncomplete: true).verify().isOK)
    }

    /// Damage that arithmetic on file contents could trap on: block keys near 2^64 and an
    /// image_count of Int.max are reported by verify; blocks past image_count are cut back by the
    /// next writer, and one past a missing record stop there without stopping the write.
    func testVerifyNeverTrapsAndWritersRepairTheTail() throws {
        let (dir, env, dbs, blocks) = try indexWithBlocks(300)
        for key in [UInt64.max, UInt64(1) << 63, 3] {
            try env.write { try $0.put(blocks, key: IndexKey.encode(key), value: [1, 2, 3]) }
            let report = try IndexReader(path: dir, allowIncomplete: true).verify()
            XCTAssertTrue(report.problems.contains { $0.database == "prefilter_blocks" && $0.key == String(key) && $0.reason.contains("past image_count") },
                          "block \(key)\n" + report.summary)
            XCTAssertEqual(report.corruptKeys, [])
            try env.write { _ = try $0.delete(blocks, key: IndexKey.encode(key)) }
        }
        let original = try env.read { try dbs.readManifest($0, path: dir) }
        var huge = original
        huge.imageCount = Int.max
        try env.write { try dbs.writeManifest(huge, $0) }
        XCTAssertFalse(try IndexReader(path: dir, allowIncomplete: true).verify().isOK)

        // Blocks for 300 keys, image_count 200: the writer cuts block 1 at key 200 and drops block 2.
        var fewer = original
        fewer.imageCount = 200
        try env.write { try dbs.writeManifest(fewer, $0) }
        let block1 = try env.read { Array(try XCTUnwrap(try $0.get(blocks, key: IndexKey.encode(1)))) }
        _ = try IndexWriter(path: dir, configuration: Fixture.configuration())
        try env.read { txn in
            XCTAssertEqual(Array(try XCTUnwrap(try txn.get(blocks, key: IndexKey.encode(1)))), Array(block1.prefix(72 * block1.count / 128)))
            XCTAssertNil(try txn.get(blocks, key: IndexKey.encode(2)))
        }
        // Back to 300 with key 250's record missing: the blocks stop at 250, writes go on.
        try env.write { txn in
            try dbs.writeManifest(original, txn)
            XCTAssertTrue(try txn.delete(dbs.prefilter, key: IndexKey.encode(250)))
        }
        let w = try IndexWriter(path: dir, configuration: Fixture.configuration())
        try IndexReader(path: dir, allowIncomplete: true).withSnapshot { s in
            let got = try s.prefilterRecords(sortedKeys: (0..<300).map { UInt64($0) })
            XCTAssertEqual(got.prefix(250).filter { $0 == nil }.count, 0)
            XCTAssertEqual(got.suffix(50).filter { $0 != nil }.count, 0)
        }
        XCTAssertNoThrow(try w.delete(ids: ["img-7"]))
        XCTAssertEqual(try w.append(Fixture.records(["late"])).appended, 1)
    }
}
