import Foundation

/// The prefilter records of `rowsPerBlock` consecutive keys stored side by side in one value of the
/// `prefilter_blocks` database (block b holds keys b·rowsPerBlock ..< (b+1)·rowsPerBlock, each row
/// byte-identical to the key's record in `prefilter`, header and checksum included).
///
/// Why a second copy: rescoring a first-stage shortlist reads a few thousand scattered prefilter
/// vectors per query. Looked up one by one, each is a descent of a B-tree of a million entries (a
/// cache miss per level, about 3 us a record at a million images); the block tree has a million /
/// 128 entries and stays in cache, and a row is then an offset into the block. Prefilter vectors
/// never change once written (deleted images keep theirs, a replaced id gets a new key), so blocks
/// only grow at the end: each commit extends them in the same transaction as the records, and a
/// writer opening an index written without them (or by an older build) fills them in first.
/// A reader that finds no block row for a key reads the key's own record instead.
public enum PrefilterBlocks {
    public static let rowsPerBlock = 128

    /// Bytes of one stored prefilter record (records of vectors are never compressed).
    public static func recordBytes(_ m: IndexManifest) -> Int {
        RecordHeader.size + m.prefilterPrecision.payloadBytes(rows: 1, dim: m.prefilterDim)
    }

    /// Makes the last block a whole one that ends at or before key `count`, inside the writer's
    /// transaction: blocks are derived from the records, so a damaged tail (not a block number, a
    /// length that is not whole records) is dropped and one past `count` cut back, never a reason
    /// to refuse a write. Returns the keys the blocks then hold.
    static func repairTail(_ txn: LMDBTransaction, _ db: LMDBDatabase, count: Int, recordBytes stride: Int) throws -> Int {
        while let last = try txn.lastKey(db) {
            if let b = last.withUnsafeBytes({ IndexKey.decode($0) }), b < UInt64(count / rowsPerBlock + 1),
               let v = try txn.get(db, key: last), v.count > 0, v.count % stride == 0, v.count / stride <= rowsPerBlock {
                let first = Int(b) * rowsPerBlock, rows = v.count / stride
                if rows <= count - first { return first + rows }
                if first < count {
                    let kept = Array(v.prefix((count - first) * stride))
                    try txn.put(db, key: last, value: kept)
                    return count
                }
            }
            try txn.delete(db, key: last)
        }
        return 0
    }

    /// Appends the records of keys `covered ..< count` from `prefilter` to the blocks, inside the
    /// writer's transaction `txn` (the last, partial block is rewritten with its new rows). A missing
    /// or wrong-sized record stops them short of it: searches read the later keys' own records, and
    /// `verify` names both, but the write goes on (a damaged image must not stop a delete).
    /// Adds at most `limit` keys; returns the keys the blocks held before and after.
    @discardableResult
    static func extend(_ txn: LMDBTransaction, _ dbs: IndexDatabases, through count: Int, atMost limit: Int = Int.max,
                       recordBytes stride: Int) throws -> (before: Int, after: Int) {
        guard let blocks = dbs.prefilterBlocks, count > 0 else { return (0, 0) }
        let covered = try repairTail(txn, blocks, count: count, recordBytes: stride)
        let end = covered + min(count - covered, max(0, limit))
        guard covered < end else { return (covered, covered) }
        var block = covered / rowsPerBlock
        var buffer: [UInt8] = []
        buffer.reserveCapacity(rowsPerBlock * stride)
        // Values returned inside a write transaction are valid only until its next put: copy first.
        if covered % rowsPerBlock != 0, let v = try txn.get(blocks, key: IndexKey.encode(UInt64(block))) {
            buffer.append(contentsOf: v)
        }
        var key = [UInt8](repeating: 0, count: 8)
        var reached = covered
        for k in covered..<end {
            IndexKey.encode(UInt64(k), into: &key)
            guard let v = try txn.get(dbs.prefilter, key: key), v.count == stride else { break }
            buffer.append(contentsOf: v)
            reached = k + 1
            if (k + 1) % rowsPerBlock == 0 {
                try txn.put(blocks, key: IndexKey.encode(UInt64(block)), value: buffer)
                buffer.removeAll(keepingCapacity: true)
                block += 1
            }
        }
        if !buffer.isEmpty { try txn.put(blocks, key: IndexKey.encode(UInt64(block)), value: buffer) }
        return (covered, reached)
    }

    /// Checks that the blocks hold exactly keys 0 ..< `count`, each row byte-identical to the key's
    /// record in `records` (the records that passed their checks) or, for a key whose own record is
    /// bad or missing (reported by the caller), a record that passes its checks. Returns one problem
    /// per wrong block or row.
    static func verify(_ s: IndexSnapshot, count: Int, records: [UInt64: UnsafeRawBufferPointer]) throws -> [VerifyReport.Problem] {
        guard let db = s.databases.prefilterBlocks else { return [] }
        let stride = recordBytes(s.manifest)
        var problems: [VerifyReport.Problem] = []
        var expectedBlock: UInt64 = 0
        // image_count comes from the file: no arithmetic on it may overflow.
        let blocksNeeded = UInt64(max(0, count / rowsPerBlock + (count % rowsPerBlock > 0 ? 1 : 0)))
        try s.forEach(db) { k, v in
            guard let b = IndexKey.decode(k) else {
                problems.append(.init(database: db.name, key: IndexKey.describe(raw: k), reason: "key is not 8 bytes"))
                return true
            }
            guard b < blocksNeeded else {
                problems.append(.init(database: db.name, key: String(b), reason: "a block past image_count \(count)"))
                return true
            }
            if b != expectedBlock {
                problems.append(.init(database: db.name, key: String(b), reason: "expected block \(expectedBlock) here (blocks are dense)"))
            }
            expectedBlock = b + 1
            let first = Int(b) * rowsPerBlock
            let rows = min(rowsPerBlock, count - first)
            guard v.count == rows * stride else {
                problems.append(.init(database: db.name, key: String(b), reason: "\(v.count) bytes, expected \(rows) records of \(stride) bytes"))
                return true
            }
            for r in 0..<rows {
                let row = UnsafeRawBufferPointer(rebasing: v[(r * stride)..<((r + 1) * stride)])
                guard let rec = records[UInt64(first + r)] else {
                    do {
                        _ = try RecordCodec.check(row, kind: .vector, database: db.name, key: String(first + r))
                    } catch {
                        problems.append(.init(database: db.name, key: String(b), reason: "row \(r) (key \(first + r)): \(error)"))
                    }
                    continue
                }
                let same = rec.count == stride && rec.baseAddress.flatMap { a in row.baseAddress.map { memcmp(a, $0, stride) == 0 } } == true
                if !same {
                    problems.append(.init(database: db.name, key: String(b),
                                          reason: "row \(r) (key \(first + r)) differs from the key's prefilter record"))
                }
            }
            return true
        }
        if expectedBlock < blocksNeeded {
            problems.append(.init(database: db.name, key: String(expectedBlock),
                                  reason: "missing: image_count \(count) needs \(blocksNeeded) blocks, found \(expectedBlock)"))
        }
        return problems
    }
}
