import CLMDB
import Foundation

/// An LMDB environment: a directory holding `data.mdb` and `lock.mdb`, with named databases.
///
/// LMDB must not have the same environment open twice in one process (closing the second
/// handle drops the first one's POSIX locks), so `open` returns the process's existing handle for
/// a directory when there is one; the handle is closed when the last reference goes away.
/// The map is reserved generously (1 TiB of address space by default; on Linux the file grows
/// only as data is written), and is doubled when a write hits MDB_MAP_FULL while no other
/// transaction of this process is open. Environments use MDB_NOTLS, so read transactions
/// are not tied to threads.
public final class LMDBEnvironment: @unchecked Sendable {
    public static let defaultMapSize = 1 << 40

    public let path: String
    /// True when the files could only be opened read-only; writes then fail with `IndexError.readOnly`.
    public let isReadOnly: Bool
    let handle: OpaquePointer
    private let identity: FileIdentity
    private let lock = NSLock()
    private var databases: [String: LMDBDatabase] = [:]
    private var openTransactions = 0
    private var currentMapSize: Int

    struct FileIdentity: Hashable { var device: UInt64; var inode: UInt64 }

    private final class Weak { weak var value: LMDBEnvironment?; init(_ v: LMDBEnvironment) { value = v } }
    private static let registryCondition = NSCondition()
    private static var registry: [FileIdentity: Weak] = [:]

    /// Opens (or returns this process's open handle of) the environment in directory `path`.
    ///
    /// With `readOnly` the directory and its `data.mdb` must exist. Without it the directory is created
    /// when missing. A read-only request shares a read-write handle when one is open; a read-write
    /// request fails with `IndexError.readOnly` when the files are not writable.
    public static func open(path: String, readOnly: Bool = false, mapSize: Int = defaultMapSize,
                            maxDatabases: Int = 16, maxReaders: Int = 256) throws -> LMDBEnvironment {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if readOnly {
            guard fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                throw IndexError.missingIndex(path: path, reason: "directory does not exist")
            }
            guard fm.fileExists(atPath: path + "/data.mdb") else {
                throw IndexError.missingIndex(path: path, reason: "no data.mdb in the directory")
            }
        } else if !fm.fileExists(atPath: path, isDirectory: &isDir) {
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw IndexError.cannotOpen(file: path, reason: "cannot create directory: \(error.localizedDescription)")
            }
        } else if !isDir.boolValue {
            throw IndexError.cannotOpen(file: path, reason: "not a directory")
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw IndexError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        let id = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))

        // Strong references obtained under the registry lock are only released after unlocking it
        // (a release may run deinit, which takes the same lock).
        registryCondition.lock()
        let result: Result<LMDBEnvironment, Error>
        do { result = .success(try openLocked(path: path, id: id, readOnly: readOnly, mapSize: mapSize,
                                              maxDatabases: maxDatabases, maxReaders: maxReaders)) } catch { result = .failure(error) }
        registryCondition.unlock()
        let env = try result.get()
        if !readOnly && env.isReadOnly { throw IndexError.readOnly(path: path) }
        return env
    }

    /// Must be called with `registryCondition` locked.
    private static func openLocked(path: String, id: FileIdentity, readOnly: Bool, mapSize: Int,
                                   maxDatabases: Int, maxReaders: Int) throws -> LMDBEnvironment {
        while let entry = registry[id] {
            if let env = entry.value { return env }
            // The last reference is being released; wait until its deinit has closed the handle.
            registryCondition.wait()
        }
        var lastError: IndexError?
        // Open read-write when possible so that readers and a later writer in this process can share the handle.
        for rdonly in [false, true] where !rdonly || readOnly {
            var env: OpaquePointer?
            try check(mdb_env_create(&env), path: path, "env_create")
            guard let env else { throw IndexError.lmdb(path: path, operation: "env_create", code: -1, message: "no handle") }
            var rc = mdb_env_set_maxdbs(env, MDB_dbi(maxDatabases))
            if rc == 0 { rc = mdb_env_set_maxreaders(env, UInt32(maxReaders)) }
            if rc == 0 { rc = mdb_env_set_mapsize(env, mapSize) }
            if rc == 0 {
                let flags = UInt32(MDB_NOTLS) | (rdonly ? UInt32(MDB_RDONLY) : 0)
                rc = mdb_env_open(env, path, flags, 0o644)
            }
            if rc != 0 {
                mdb_env_close(env)
                lastError = error(rc, path: path, "env_open")
                if rc == EACCES || rc == EROFS { continue }
                throw lastError!
            }
            var dead: Int32 = 0
            _ = mdb_reader_check(env, &dead)  // clear reader slots left by killed processes
            var info = MDB_envinfo()
            mdb_env_info(env, &info)
            let e = LMDBEnvironment(path: path, handle: env, readOnly: rdonly, identity: id, mapSize: max(mapSize, info.me_mapsize))
            registry[id] = Weak(e)
            return e
        }
        throw lastError ?? IndexError.readOnly(path: path)
    }

    private init(path: String, handle: OpaquePointer, readOnly: Bool, identity: FileIdentity, mapSize: Int) {
        self.path = path
        self.handle = handle
        self.isReadOnly = readOnly
        self.identity = identity
        self.currentMapSize = mapSize
    }

    deinit {
        let cond = LMDBEnvironment.registryCondition
        cond.lock()
        mdb_env_close(handle)
        LMDBEnvironment.registry.removeValue(forKey: identity)
        cond.broadcast()
        cond.unlock()
    }

    /// The current map size in bytes.
    public var mapSize: Int { lock.lock(); defer { lock.unlock() }; return currentMapSize }

    /// The largest key LMDB accepts (511 bytes by default).
    public var maxKeySize: Int { Int(mdb_env_get_maxkeysize(handle)) }

    /// The named database `name`; with `create` it is created when absent (in a write transaction of its own,
    /// so call this before starting other write transactions on the same thread).
    public func database(_ name: String, create: Bool = false) throws -> LMDBDatabase {
        lock.lock()
        if let db = databases[name] { lock.unlock(); return db }
        lock.unlock()
        if create && isReadOnly { throw IndexError.readOnly(path: path) }
        // mdb_dbi_open must not run in two transactions of the process at once: serialise.
        LMDBEnvironment.dbiOpenLock.lock()
        defer { LMDBEnvironment.dbiOpenLock.unlock() }
        lock.lock()
        if let db = databases[name] { lock.unlock(); return db }
        lock.unlock()
        let txn = try begin(readOnly: !create)
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(try txn.txn("dbi_open"), name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        if rc == MDB_NOTFOUND {
            txn.abort()
            throw IndexError.missingDatabase(path: path, name: name)
        }
        if rc != 0 { txn.abort(); try check(rc, "dbi_open '\(name)'") }
        try txn.commit()
        let db = LMDBDatabase(name: name, dbi: dbi)
        lock.lock()
        databases[name] = db
        lock.unlock()
        return db
    }
    private static let dbiOpenLock = NSLock()

    /// Begins a transaction; the caller must commit or abort it (deinit aborts).
    public func begin(readOnly: Bool) throws -> LMDBTransaction {
        if !readOnly && isReadOnly { throw IndexError.readOnly(path: path) }
        var attempts = 0
        while true {
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
            if rc == MDB_MAP_RESIZED && attempts == 0 {
                // Another process grew the map: adopt its size when nothing of ours is open.
                attempts += 1
                lock.lock()
                let idle = openTransactions == 0
                if idle {
                    _ = mdb_env_set_mapsize(handle, 0)
                    var info = MDB_envinfo()
                    mdb_env_info(handle, &info)
                    currentMapSize = info.me_mapsize
                }
                lock.unlock()
                if idle { continue }
            }
            try check(rc, readOnly ? "begin read transaction" : "begin write transaction")
            lock.lock()
            openTransactions += 1
            lock.unlock()
            return LMDBTransaction(environment: self, handle: txn!, readOnly: readOnly)
        }
    }

    func transactionEnded() {
        lock.lock()
        openTransactions -= 1
        lock.unlock()
    }

    /// Runs `body` in a read transaction (one consistent snapshot).
    public func read<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        let txn = try begin(readOnly: true)
        defer { txn.abort() }
        return try body(txn)
    }

    /// Runs `body` in a write transaction and commits it; a throw aborts everything `body` wrote.
    /// When the map fills up, the map is doubled and `body` runs again from scratch, so `body`
    /// must have no effects outside the transaction.
    @discardableResult
    public func write<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        while true {
            let txn = try begin(readOnly: false)
            do {
                let result = try body(txn)
                try txn.commit()
                return result
            } catch let IndexError.lmdb(_, _, code, _) where code == MDB_MAP_FULL {
                txn.abort()
                try grow()
            } catch {
                txn.abort()
                throw error
            }
        }
    }

    private func grow() throws {
        lock.lock()
        defer { lock.unlock() }
        let size = currentMapSize
        guard openTransactions == 0, size < Int.max / 2 else { throw IndexError.mapFull(path: path, mapSize: size) }
        let rc = mdb_env_set_mapsize(handle, size * 2)
        if rc != 0 { throw IndexError.mapFull(path: path, mapSize: size) }
        currentMapSize = size * 2
    }

    /// Flushes the data to disk (commits already sync unless the environment was opened without sync).
    public func sync() throws { try check(mdb_env_sync(handle, 1), "sync") }

    func check(_ rc: Int32, _ op: String) throws {
        if rc != 0 { throw LMDBEnvironment.error(rc, path: path, op) }
    }

    static func check(_ rc: Int32, path: String, _ op: String) throws {
        if rc != 0 { throw error(rc, path: path, op) }
    }

    static func error(_ rc: Int32, path: String, _ op: String) -> IndexError {
        .lmdb(path: path, operation: op, code: rc, message: String(cString: mdb_strerror(rc)))
    }
}
