import CLMDB
import Foundation

/// One LMDB transaction. Read transactions see a fixed snapshot (MVCC) for their whole life;
/// a write transaction's changes become visible to others only when `commit()` returns.
///
/// Pointers returned by `get` and `forEach` point into LMDB's map and stay valid until the
/// transaction ends (for a write transaction: until the next change to the database).
/// A write transaction must be ended on the thread that began it; read transactions
/// (the environment uses MDB_NOTLS) may move between threads but must not be used by two at once.
public final class LMDBTransaction {
    public let environment: LMDBEnvironment
    public let isReadOnly: Bool
    private var handle: OpaquePointer?

    init(environment: LMDBEnvironment, handle: OpaquePointer, readOnly: Bool) {
        self.environment = environment
        self.handle = handle
        self.isReadOnly = readOnly
    }

    deinit { abort() }

    /// Whether the transaction is still open.
    public var isOpen: Bool { handle != nil }

    /// LMDB's transaction id: equal ids mean the same snapshot.
    public var id: Int { handle.map { Int(mdb_txn_id($0)) } ?? -1 }

    func txn(_ op: String) throws -> OpaquePointer {
        guard let h = handle else {
            throw IndexError.lmdb(path: environment.path, operation: op, code: EINVAL, message: "transaction already ended")
        }
        return h
    }

    /// The value stored under `key`, or nil when there is none.
    public func get(_ db: LMDBDatabase, key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        let t = try txn("get")
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(t, db.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try environment.check(rc, "get from '\(db.name)'")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    public func get(_ db: LMDBDatabase, key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try get(db, key: $0) }
    }

    /// Stores `value` under `key`. With `noOverwrite` an existing key is left alone and false is returned.
    /// `append` asserts that the key sorts after every key in the database (faster bulk loading).
    @discardableResult
    public func put(_ db: LMDBDatabase, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                    noOverwrite: Bool = false, append: Bool = false) throws -> Bool {
        let t = try txn("put")
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        var flags: UInt32 = 0
        if noOverwrite { flags |= UInt32(MDB_NOOVERWRITE) }
        if append { flags |= UInt32(MDB_APPEND) }
        let rc = mdb_put(t, db.dbi, &k, &v, flags)
        if rc == MDB_KEYEXIST && noOverwrite { return false }
        try environment.check(rc, "put into '\(db.name)'")
        return true
    }

    @discardableResult
    public func put(_ db: LMDBDatabase, key: [UInt8], value: [UInt8], noOverwrite: Bool = false, append: Bool = false) throws -> Bool {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in
            try put(db, key: k, value: v, noOverwrite: noOverwrite, append: append)
        } }
    }

    /// Deletes `key`; returns false when it was absent.
    @discardableResult
    public func delete(_ db: LMDBDatabase, key: [UInt8]) throws -> Bool {
        let t = try txn("delete")
        return try key.withUnsafeBytes { kb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            let rc = mdb_del(t, db.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try environment.check(rc, "delete from '\(db.name)'")
            return true
        }
    }

    /// Number of entries in `db` as of this transaction (O(1)).
    public func count(_ db: LMDBDatabase) throws -> Int {
        let t = try txn("stat")
        var st = MDB_stat()
        try environment.check(mdb_stat(t, db.dbi, &st), "stat of '\(db.name)'")
        return st.ms_entries
    }

    /// Calls `body(key, value)` for the entries of `db` in key order, from the first key >= `start`
    /// (or the first key); stops early when `body` returns false.
    public func forEach(_ db: LMDBDatabase, from start: [UInt8]? = nil,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try withCursor(db) { cursor in
            var k = MDB_val()
            var v = MDB_val()
            var rc: Int32
            if let start {
                rc = start.withUnsafeBytes { sb -> Int32 in
                    k = MDB_val(mv_size: sb.count, mv_data: UnsafeMutableRawPointer(mutating: sb.baseAddress))
                    return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
                }
            } else {
                rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
            }
            while rc == 0 {
                let go = try body(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                                  UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
                if !go { return }
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try environment.check(rc, "cursor over '\(db.name)'") }
        }
    }

    /// The largest key of `db`, or nil when it is empty.
    public func lastKey(_ db: LMDBDatabase) throws -> [UInt8]? {
        try withCursor(db) { cursor in
            var k = MDB_val()
            var v = MDB_val()
            let rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
            if rc == MDB_NOTFOUND { return nil }
            try environment.check(rc, "cursor over '\(db.name)'")
            return Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size))
        }
    }

    /// Runs `body` with a cursor on `db` in this transaction, closed afterwards.
    private func withCursor<R>(_ db: LMDBDatabase, _ body: (OpaquePointer?) throws -> R) throws -> R {
        let t = try txn("cursor")
        var cursor: OpaquePointer?
        try environment.check(mdb_cursor_open(t, db.dbi, &cursor), "cursor on '\(db.name)'")
        defer { mdb_cursor_close(cursor) }
        return try body(cursor)
    }

    /// Commits (for a read transaction: ends it).
    public func commit() throws {
        guard let h = handle else { return }
        handle = nil
        environment.transactionEnded()
        try environment.check(mdb_txn_commit(h), "commit")
    }

    /// Abandons the transaction's changes and ends it. Safe to call twice.
    public func abort() {
        guard let h = handle else { return }
        handle = nil
        mdb_txn_abort(h)
        environment.transactionEnded()
    }
}
