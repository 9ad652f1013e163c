import Foundation
import SCANCore

/// One consistent view of an index: an LMDB read transaction held open until `close()` (or deinit).
/// Everything read through one snapshot belongs to the same commit, whatever writers do meanwhile.
///
/// Thread safe: LMDB lookups are serialised by a lock, decoding runs concurrently
/// (values point into LMDB's read-only map, valid while the snapshot is open).
public final class IndexSnapshot: @unchecked Sendable {
    public let path: String
    /// The manifest as of this snapshot.
    public let manifest: IndexManifest
    public let databases: IndexDatabases
    private let txn: LMDBTransaction
    private let lock = NSLock()
    private var deletedLoaded: Set<UInt64>?
    private var codebookLoaded = false
    private var cachedCodebook: ProductQuantizer?
    private let codebookCache: CodebookCache

    init(path: String, environment: LMDBEnvironment, databases: IndexDatabases, codebookCache: CodebookCache = CodebookCache()) throws {
        self.path = path
        self.databases = databases
        self.codebookCache = codebookCache
        txn = try environment.begin(readOnly: true)
        manifest = try databases.readManifest(txn, path: path)
    }

    deinit { txn.abort() }

    /// Ends the snapshot; later calls fail.
    public func close() {
        lock.lock()
        txn.abort()
        lock.unlock()
    }

    /// LMDB's id of the snapshot's transaction (equal ids: same commit).
    public var transactionID: Int { lock.lock(); defer { lock.unlock() }; return txn.id }

    /// The index's product-quantisation codebook (nil for scalar precisions), looked up once per
    /// snapshot and parsed once per reader (`CodebookCache`).
    public func codebook() throws -> ProductQuantizer? {
        guard manifest.precision.isProductQuantized else { return nil }
        lock.lock()
        defer { lock.unlock() }
        if !codebookLoaded {
            cachedCodebook = try codebookCache.codebook(txn, databases: databases, dim: manifest.embedDim)
            codebookLoaded = true
        }
        return cachedCodebook
    }

    /// Number of image slots (internal keys 0 ..< count) as of this snapshot, deleted ones included.
    public var count: Int { manifest.imageCount }

    /// Images searches can return as of this snapshot.
    public var liveCount: Int { manifest.liveCount }

    /// The internal keys of the images deleted as of this snapshot (read once per snapshot).
    public func deletedKeys() throws -> Set<UInt64> {
        guard manifest.deletedCount > 0, let db = databases.deleted else { return [] }
        lock.lock()
        defer { lock.unlock() }
        if let d = deletedLoaded { return d }
        var out = Set<UInt64>()
        out.reserveCapacity(manifest.deletedCount)
        try txn.forEach(db, from: nil) { k, _ in
            guard let key = IndexKey.decode(k) else {
                throw IndexError.corruptRecord(database: db.name, key: IndexKey.describe(raw: k), reason: "key is not 8 bytes")
            }
            out.insert(key)
            return true
        }
        deletedLoaded = out
        return out
    }

    /// The raw stored value of `key` in `db`, valid until the snapshot closes.
    public func rawValue(_ db: LMDBDatabase, key: [UInt8]) throws -> UnsafeRawBufferPointer? {
        lock.lock()
        defer { lock.unlock() }
        return try txn.get(db, key: key)
    }

    private func required(_ db: LMDBDatabase, _ key: UInt64) throws -> UnsafeRawBufferPointer {
        guard let v = try rawValue(db, key: IndexKey.encode(key)) else {
            throw IndexError.missingRecord(database: db.name, key: String(key))
        }
        return v
    }

    /// Visits the entries of `db` in key order under the snapshot's lock (`body` returns false to stop).
    public func forEach(_ db: LMDBDatabase, from start: [UInt8]? = nil,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        lock.lock()
        defer { lock.unlock() }
        try txn.forEach(db, from: start, body)
    }

    /// Number of entries of `db` in this snapshot.
    public func entryCount(_ db: LMDBDatabase) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        return try txn.count(db)
    }

    /// The internal key of external id `id`, or nil.
    public func key(forID id: String) throws -> UInt64? {
        guard let v = try rawValue(databases.ids, key: Array(id.utf8)) else { return nil }
        guard let k = IndexKey.decode(v) else {
            throw IndexError.corruptRecord(database: databases.ids.name, key: id, reason: "value is \(v.count) bytes, expected 8")
        }
        return k
    }

    /// All internal keys in order.
    public func keys() throws -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(manifest.imageCount)
        try forEach(databases.regions) { k, _ in
            guard let key = IndexKey.decode(k) else {
                throw IndexError.corruptRecord(database: self.databases.regions.name, key: IndexKey.describe(raw: k), reason: "key is not 8 bytes")
            }
            out.append(key)
            return true
        }
        return out
    }

    /// Rows and dim of image `key`'s region record (header only, not checksummed).
    public func regionShape(_ key: UInt64) throws -> (rows: Int, dim: Int) {
        let h = try RecordCodec.header(of: try required(databases.regions, key), kind: .regions,
                                       database: databases.regions.name, key: String(key))
        return (h.rows, h.dim)
    }

    /// Decodes image `key`'s regions into `out` (at least rows x dim floats); returns the number of rows.
    @discardableResult
    public func regions(_ key: UInt64, into out: UnsafeMutableBufferPointer<Float>) throws -> Int {
        let v = try required(databases.regions, key)
        let h = try RecordCodec.decode(v, kind: .regions, database: databases.regions.name, key: String(key), into: out, codebook: try codebook())
        guard h.dim == manifest.embedDim else {
            throw IndexError.corruptRecord(database: databases.regions.name, key: String(key),
                                           reason: "dim \(h.dim), manifest embed_dim \(manifest.embedDim)")
        }
        return h.rows
    }

    /// Image `key`'s regions as a rows x embed_dim tensor.
    public func regions(_ key: UInt64) throws -> Tensor {
        let (rows, dim) = try regionShape(key)
        var t = Tensor(zeros: [rows, dim])
        try t.data.withUnsafeMutableBufferPointer { _ = try regions(key, into: $0) }
        return t
    }

    /// The regions of several images, decoded in parallel.
    public func regions(_ keys: [UInt64]) throws -> [Tensor] {
        var out = [Result<Tensor, Error>?](repeating: nil, count: keys.count)
        out.withUnsafeMutableBufferPointer { o in
            Parallel.forEach(keys.count) { i in o[i] = Result { try self.regions(keys[i]) } }
        }
        return try out.map { try $0!.get() }
    }

    /// The regions of `keys` stacked into one contiguous matrix, decoded in parallel.
    public func regionBatch(_ keys: [UInt64]) throws -> RegionBatch {
        let db = databases.regions
        let dim = manifest.embedDim
        var values: [UnsafeRawBufferPointer] = []
        var offsets = [0]
        values.reserveCapacity(keys.count)
        offsets.reserveCapacity(keys.count + 1)
        for key in keys {
            let v = try required(db, key)
            let h = try RecordCodec.header(of: v, kind: .regions, database: db.name, key: String(key))
            guard h.dim == dim else {
                throw IndexError.corruptRecord(database: db.name, key: String(key), reason: "dim \(h.dim), manifest embed_dim \(dim)")
            }
            values.append(v)
            offsets.append(offsets.last! + h.rows)
        }
        let cb = try codebook()
        var matrix = [Float](repeating: 0, count: offsets.last! * dim)
        var errors = [Error?](repeating: nil, count: keys.count)
        matrix.withUnsafeMutableBufferPointer { m in
            errors.withUnsafeMutableBufferPointer { errs in
                Parallel.forEach(keys.count) { i in
                    do {
                        let h = try RecordCodec.decode(values[i], kind: .regions, database: db.name, key: String(keys[i]),
                                                       into: UnsafeMutableBufferPointer(rebasing: m[(offsets[i] * dim)..<(offsets[i + 1] * dim)]),
                                                       codebook: cb)
                        if h.rows != offsets[i + 1] - offsets[i] {
                            throw IndexError.corruptRecord(database: db.name, key: String(keys[i]), reason: "row count changed while decoding")
                        }
                    } catch { errs[i] = error }
                }
            }
        }
        if let e = errors.first(where: { $0 != nil }) { throw e! }
        return RegionBatch(keys: keys, rowOffsets: offsets, values: matrix, dim: dim)
    }

    /// Image `key`'s prefilter vector.
    public func prefilter(_ key: UInt64) throws -> [Float] {
        let v = try RecordCodec.decodeVector(try required(databases.prefilter, key), database: databases.prefilter.name, key: String(key))
        guard v.count == manifest.prefilterDim else {
            throw IndexError.corruptRecord(database: databases.prefilter.name, key: String(key),
                                           reason: "dim \(v.count), manifest prefilter_dim \(manifest.prefilterDim)")
        }
        return v
    }

    /// Image `key`'s metadata.
    public func metadata(_ key: UInt64) throws -> ImageMetadata {
        try ImageMetadata.decode(try required(databases.metadata, key), database: databases.metadata.name, key: String(key))
    }

    /// The metadata of several images.
    public func metadata(_ keys: [UInt64]) throws -> [ImageMetadata] { try keys.map { try metadata($0) } }

    /// The stored prefilter records of `keys` (ascending), found through `prefilter_blocks`: one
    /// lookup per distinct block, under the lock once. Nil for a key the blocks do not hold (an index
    /// without blocks, or a key past them); the caller then reads `prefilter(key)`. Records are not
    /// checked here: decode them with `RecordCodec`. Valid until the snapshot closes.
    public func prefilterRecords(sortedKeys keys: [UInt64]) throws -> [UnsafeRawBufferPointer?] {
        var out = [UnsafeRawBufferPointer?](repeating: nil, count: keys.count)
        guard let db = databases.prefilterBlocks, !keys.isEmpty else { return out }
        let stride = PrefilterBlocks.recordBytes(manifest)
        let perBlock = UInt64(PrefilterBlocks.rowsPerBlock)
        lock.lock()
        defer { lock.unlock() }
        var current = UInt64.max
        var value: UnsafeRawBufferPointer?
        var key = [UInt8](repeating: 0, count: 8)
        for (i, k) in keys.enumerated() {
            let b = k / perBlock
            if b != current {
                current = b
                IndexKey.encode(b, into: &key)
                value = try txn.get(db, key: key)
            }
            guard let v = value else { continue }
            let start = Int(k % perBlock) * stride
            if start + stride <= v.count { out[i] = UnsafeRawBufferPointer(rebasing: v[start..<(start + stride)]) }
        }
        return out
    }

    /// Every prefilter vector of the snapshot as one contiguous matrix in key order.
    /// Throws on the first corrupt vector (run `IndexReader.verify()` to list all).
    public func prefilterMatrix() throws -> PrefilterMatrix {
        let db = databases.prefilter
        var keys: [UInt64] = []
        var values: [UnsafeRawBufferPointer] = []
        keys.reserveCapacity(manifest.imageCount)
        values.reserveCapacity(manifest.imageCount)
        try forEach(db) { k, v in
            guard let key = IndexKey.decode(k) else {
                throw IndexError.corruptRecord(database: db.name, key: IndexKey.describe(raw: k), reason: "key is not 8 bytes")
            }
            keys.append(key)
            values.append(v)
            return true
        }
        let p = manifest.prefilterDim
        var matrix = [Float](repeating: 0, count: keys.count * p)
        var errors = [Error?](repeating: nil, count: keys.count)
        matrix.withUnsafeMutableBufferPointer { m in
            errors.withUnsafeMutableBufferPointer { errs in
                Parallel.forChunks(keys.count, minChunk: 256) { range in
                    for i in range {
                        do {
                            let v = values[i]
                            let h = try RecordCodec.header(of: v, kind: .vector, database: db.name, key: String(keys[i]))
                            guard h.valueCount == p else {
                                throw IndexError.corruptRecord(database: db.name, key: String(keys[i]),
                                                               reason: "\(h.valueCount) values, manifest prefilter_dim \(p)")
                            }
                            try RecordCodec.decode(v, kind: .vector, database: db.name, key: String(keys[i]),
                                                   into: UnsafeMutableBufferPointer(rebasing: m[(i * p)..<((i + 1) * p)]))
                        } catch { errs[i] = error }
                    }
                }
            }
        }
        if let e = errors.first(where: { $0 != nil }) { throw e! }
        return PrefilterMatrix(keys: keys, values: matrix, dim: p, transactionID: transactionID)
    }
}
