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

    /// Number of keys (from 0) the blocks hold, found from the last block.
    static func coveredRows(_ txn: LMDBTransaction, _ db: LMDBDatabase, recordBytes stride: Int) throws -> Int {
        guard let last = try txn.lastKey(db) else { return 0 }
        guard let b = last.withUnsafeBytes({ IndexKey.decode($0) }), b < UInt64(Int.max / rowsPerBlock) else {
            throw IndexError.corruptRecord(database: db.name, key: last.withUnsafeBytes { IndexKey.describe(raw: $0) }, reason: "not a block number")
        }
        let value = try txn.get(db, key: last)
        let bytes = value?.count ?? 0
        guard bytes > 0, bytes % stride == 0, bytes / stride <= rowsPerBlock else {
            throw IndexError.corruptRecord(database: db.name, key: String(b),
                                           reason: "\(bytes) bytes, expected 1 to \(rowsPerBlock) records of \(stride) bytes")
        }
        return Int(b) * rowsPerBlock + bytes / stride
    }

    /// Appends the records of keys `covered ..< count` from `prefilter` to the blocks, inside the
    /// writer's transaction `txn` (the last, partial block is rewritten with its new rows).
    static func extend(_ txn: LMDBTransaction, _ dbs: IndexDatabases, through count: Int, recordBytes stride: Int) throws {
        guard let blocks = dbs.prefilterBlocks else { return }
        let covered = try coveredRows(txn, blocks, recordBytes: stride)
        guard covered < count else {
            if covered > count {
                throw IndexError.corruptRecord(database: blocks.name, key: "last", reason: "holds \(covered) rows, image_count is \(count)")
            }
            return
        }
        var block = covered / rowsPerBlock
        var buffer: [UInt8] = []
        buffer.reserveCapacity(rowsPerBlock * stride)
        // Values returned inside a write transaction are valid only until its next put: copy first.
        if covered % rowsPerBlock != 0, let v = try txn.get(blocks, key: IndexKey.encode(UInt64(block))) {
            buffer.append(contentsOf: v)
        }
        var key = [UInt8](repeating: 0, count: 8)
        for k in covered..<count {
            IndexKey.encode(UInt64(k), into: &key)
            guard let v = try txn.get(dbs.prefilter, key: key) else {
                throw IndexError.missingRecord(database: dbs.prefilter.name, key: String(k))
            }
            guard v.count == stride else {
                throw IndexError.corruptRecord(database: dbs.prefilter.name, key: String(k), reason: "\(v.count) bytes, expected \(stride)")
            }
            buffer.append(contentsOf: v)
            if (k + 1) % rowsPerBlock == 0 || k + 1 == count {
                try txn.put(blocks, key: IndexKey.encode(UInt64(block)), value: buffer)
                buffer.removeAll(keepingCapacity: true)
                block += 1
            }
        }
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
        let blocksNeeded = (count + rowsPerBlock - 1) / rowsPerBlock
        try s.forEach(db) { k, v in
            guard let b = IndexKey.decode(k) else {
                problems.append(.init(database: db.name, key: IndexKey.describe(raw: k), reason: "key is not 8 bytes"))
                return true
            }
            if b != expectedBlock {
                problems.append(.init(database: db.name, key: String(b), reason: "expected block \(expectedBlock) here (blocks are dense)"))
            }
            expectedBlock = b + 1
            guard b < UInt64(blocksNeeded) else {
                problems.append(.init(database: db.name, key: String(b), reason: "a block past image_count \(count)"))
                return true
            }
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
        if Int(expectedBlock) < blocksNeeded {
            problems.append(.init(database: db.name, key: String(expectedBlock),
                                  reason: "missing: image_count \(count) needs \(blocksNeeded) blocks, found \(expectedBlock)"))
        }
        return problems
    }
}
