import Foundation
import SCANCore

/// Creates or reopens an index directory and appends already-encoded images in batches.
///
/// Each `append` is one LMDB write transaction holding the region records, prefilter vectors,
/// metadata, id mappings and the manifest's new counts, so a crash at any point leaves the index
/// exactly at the last committed batch. Ids already stored are skipped, so re-running a build
/// resumes it. The manifest's state stays `building` until `markComplete()`; appending to a
/// complete index sets it back to `building` in the first batch that adds anything.
/// One writer per index at a time: the writer holds an exclusive lock on `writer.lock` in the directory
/// (released when the writer is deallocated or the process dies). Use a writer from one thread at a time.
public final class IndexWriter {
    /// What the writer is asked to build; compared with the manifest of an existing index.
    public struct Configuration: Sendable, Equatable {
        public var modelFingerprint: String
        public var modelName: String
        public var embedDim: Int
        public var imgDim: Int
        public var precision: Precision
        public var prefilterKind: IndexManifest.PrefilterKind
        public var prefilterDim: Int
        public var prefilterPrecision: Precision
        /// Identifies a `projection` prefilter's weights (nil for the plain mean); must match an existing index's.
        public var prefilterFingerprint: String?
        /// zstd level for region records (0: uncompressed). Not part of the manifest: records describe themselves.
        public var compressionLevel: Int
        public var mapSize: Int
        /// The shard this index is (nil: a whole index); must match an existing index's.
        public var shard: ShardMembership?

        /// `prefilterDim` defaults to `embedDim` (the mean of the regions).
        public init(modelFingerprint: String, modelName: String, embedDim: Int, imgDim: Int,
                    precision: Precision = .float16, prefilterKind: IndexManifest.PrefilterKind = .mean,
                    prefilterDim: Int? = nil, prefilterPrecision: Precision = .float16, prefilterFingerprint: String? = nil,
                    compressionLevel: Int = 3, mapSize: Int = LMDBEnvironment.defaultMapSize, shard: ShardMembership? = nil) {
            self.modelFingerprint = modelFingerprint
            self.modelName = modelName
            self.embedDim = embedDim
            self.imgDim = imgDim
            self.precision = precision
            self.prefilterKind = prefilterKind
            self.prefilterDim = prefilterDim ?? embedDim
            self.prefilterPrecision = prefilterPrecision
            self.prefilterFingerprint = prefilterFingerprint
            self.compressionLevel = compressionLevel
            self.mapSize = mapSize
            self.shard = shard
        }
    }

    /// What one `append` did.
    public struct AppendResult: Sendable, Equatable {
        /// Records written.
        public var appended: Int
        /// Ids skipped because the index (or an earlier record of the same batch) already had them.
        public var skipped: [String]
        /// Internal keys given to the appended records, in order.
        public var keys: [UInt64]
    }

    /// Largest stored prefilter payload per image.
    public static let maxPrefilterBytes = 4096

    public let path: String
    public let configuration: Configuration
    public let environment: LMDBEnvironment
    public let databases: IndexDatabases
    /// The manifest as of the writer's last commit.
    public private(set) var manifest: IndexManifest
    private let lockFD: Int32
    private var regionCodec: RecordCodec
    /// The product-quantisation codebook of a `pq*` index (nil until `installCodebook`, and for scalar precisions).
    public var codebook: ProductQuantizer? { regionCodec.codebook }
    private let prefilterCodec: RecordCodec

    /// Opens the index at `path` for appending, creating it when absent. An existing index must have
    /// been built with the same model fingerprint, dims, precisions and prefilter kind.
    public init(path: String, configuration c: Configuration) throws {
        guard c.embedDim > 0, c.imgDim > 0, c.prefilterDim > 0 else {
            throw IndexError.invalidRecord(record: "configuration", field: "dims", expected: "positive embed, img and prefilter dims",
                                           found: "embed \(c.embedDim), img \(c.imgDim), prefilter \(c.prefilterDim)")
        }
        guard c.precision.supports(dim: c.embedDim) else {
            throw IndexError.invalidRecord(record: "configuration", field: "precision", expected: "a precision whose sub-vectors divide embed_dim \(c.embedDim)",
                                           found: c.precision.rawValue)
        }
        guard !c.prefilterPrecision.isProductQuantized else {
            throw IndexError.invalidRecord(record: "configuration", field: "prefilter_precision", expected: "float16, int8 or float32", found: c.prefilterPrecision.rawValue)
        }
        let pfBytes = c.prefilterPrecision.payloadBytes(rows: 1, dim: c.prefilterDim)
        guard pfBytes <= IndexWriter.maxPrefilterBytes else {
            throw IndexError.invalidRecord(record: "configuration", field: "prefilter_dim",
                                           expected: "at most \(IndexWriter.maxPrefilterBytes) bytes per prefilter vector",
                                           found: "\(c.prefilterDim) x \(c.prefilterPrecision.rawValue) = \(pfBytes) bytes")
        }
        let path = (path as NSString).standardizingPath
        self.path = path
        configuration = c
        regionCodec = RecordCodec(precision: c.precision, compressionLevel: c.compressionLevel)
        prefilterCodec = RecordCodec(precision: c.prefilterPrecision, compressionLevel: 0)
        environment = try LMDBEnvironment.open(path: path, readOnly: false, mapSize: c.mapSize)
        if environment.isReadOnly { throw IndexError.readOnly(path: path) }

        let fd = Foundation.open(path + "/writer.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw IndexError.cannotOpen(file: path + "/writer.lock", reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw IndexError.writerLocked(path: path)
        }
        lockFD = fd
        do {
            databases = try IndexDatabases(environment, create: true)
            let dbs = databases
            let p = path
            var existingCodebook: ProductQuantizer?
            manifest = try environment.write { txn -> IndexManifest in
                existingCodebook = c.precision.isProductQuantized ? try dbs.readCodebook(txn, dim: c.embedDim) : nil
                if (try txn.get(dbs.manifest, key: IndexDatabases.manifestKey)) != nil {
                    let m = try dbs.readManifest(txn, path: p)
                    try IndexWriter.check(m, against: c, path: p)
                    return m
                }
                var m = IndexManifest(modelFingerprint: c.modelFingerprint, modelName: c.modelName, embedDim: c.embedDim,
                                      imgDim: c.imgDim, precision: c.precision, prefilterKind: c.prefilterKind,
                                      prefilterDim: c.prefilterDim, prefilterPrecision: c.prefilterPrecision,
                                      prefilterFingerprint: c.prefilterFingerprint)
                m.shard = c.shard
                try dbs.writeManifest(m, txn)
                return m
            }
            regionCodec.codebook = existingCodebook
            // An index written before prefilter blocks existed (or by a build without them) gets them
            // now, 65,536 keys per commit: a killed writer leaves a shorter prefix, which readers
            // complete from the records and the next writer extends.
            let stride = PrefilterBlocks.recordBytes(manifest), count = manifest.imageCount
            while true {
                let r = try environment.write { txn in try PrefilterBlocks.extend(txn, dbs, through: count, atMost: 65_536, recordBytes: stride) }
                // Done, or stopped at a damaged record (searches read the later keys one by one).
                if r.after >= count || r.after - r.before < 65_536 { break }
            }
        } catch {
            flock(fd, LOCK_UN)
            close(fd)
            throw error
        }
    }

    deinit {
        flock(lockFD, LOCK_UN)
        close(lockFD)
    }

    static func check(_ m: IndexManifest, against c: Configuration, path: String) throws {
        func mismatch(_ field: String, _ expected: String, _ found: String) -> IndexError {
            .manifestMismatch(path: path, field: field, expected: expected, found: found)
        }
        if m.modelFingerprint != c.modelFingerprint { throw mismatch("model_fingerprint", c.modelFingerprint, m.modelFingerprint) }
        if m.embedDim != c.embedDim { throw mismatch("embed_dim", "\(c.embedDim)", "\(m.embedDim)") }
        if m.imgDim != c.imgDim { throw mismatch("img_dim", "\(c.imgDim)", "\(m.imgDim)") }
        if m.precision != c.precision { throw mismatch("precision", c.precision.rawValue, m.precision.rawValue) }
        if m.prefilterKind != c.prefilterKind { throw mismatch("prefilter_kind", c.prefilterKind.rawValue, m.prefilterKind.rawValue) }
        if m.prefilterDim != c.prefilterDim { throw mismatch("prefilter_dim", "\(c.prefilterDim)", "\(m.prefilterDim)") }
        if m.prefilterPrecision != c.prefilterPrecision {
            throw mismatch("prefilter_precision", c.prefilterPrecision.rawValue, m.prefilterPrecision.rawValue)
        }
        if m.prefilterFingerprint != c.prefilterFingerprint {
            throw mismatch("prefilter_fingerprint", c.prefilterFingerprint ?? "none", m.prefilterFingerprint ?? "none")
        }
        // A pq shard's set fingerprint names its codebook from the moment it is installed.
        let shard = m.codebookFingerprint.flatMap { c.shard?.withCodebook($0) } ?? c.shard
        if m.shard != shard { throw mismatch("shard", shard?.description ?? "a whole index (no shard)", m.shard?.description ?? "a whole index (no shard)") }
    }

    /// Stores the codebook of a product-quantised index (one commit, before any region record).
    /// An index keeps its codebook for life: replacing it would change every stored record's meaning.
    public func installCodebook(_ pq: ProductQuantizer) throws {
        let c = configuration
        guard let d = c.precision.subDim else {
            throw IndexError.invalidRecord(record: "codebook", field: "precision", expected: "a pq precision", found: c.precision.rawValue)
        }
        guard pq.dim == c.embedDim, pq.subDim == d else {
            throw IndexError.invalidRecord(record: "codebook", field: "shape", expected: "dim \(c.embedDim), sub_dim \(d)", found: "dim \(pq.dim), sub_dim \(pq.subDim)")
        }
        let dbs = databases
        let value = try pq.record()
        let p = path
        let fingerprint = pq.fingerprint
        // The codebook, its fingerprint in the manifest and a shard's set fingerprint naming it: one commit.
        manifest = try environment.write { txn -> IndexManifest in
            if try txn.get(dbs.manifest, key: IndexDatabases.codebookKey) != nil {
                throw IndexError.badManifest(path: p, reason: "the index has a codebook already")
            }
            var m = try dbs.readManifest(txn, path: p)
            try IndexWriter.check(m, against: c, path: p)
            try txn.put(dbs.manifest, key: IndexDatabases.codebookKey, value: value)
            m.codebookFingerprint = fingerprint
            m.shard = m.shard?.withCodebook(fingerprint)
            try dbs.writeManifest(m, txn)
            return m
        }
        regionCodec.codebook = pq
    }

    /// Whether an image with external id `id` is stored (as of the last commit).
    public func contains(id: String) throws -> Bool {
        let dbs = databases
        return try environment.read { txn in try txn.get(dbs.ids, key: Array(id.utf8)) != nil }
    }

    /// The subset of `ids` already stored (one read transaction).
    public func existingIDs(_ ids: [String]) throws -> Set<String> {
        let dbs = databases
        return try environment.read { txn in
            var found = Set<String>()
            for id in ids where try txn.get(dbs.ids, key: Array(id.utf8)) != nil { found.insert(id) }
            return found
        }
    }

    /// How many of `ids` the index holds, by the source description their records were appended from.
    public func storedSources(ofIDs ids: Set<String>) throws -> [String: Int] {
        let dbs = databases
        return try environment.read { txn in
            var bySource: [String: Int] = [:]
            for id in ids {
                guard let key = try txn.get(dbs.ids, key: Array(id.utf8)) else { continue }
                let keyBytes = Array(key)
                guard let value = try txn.get(dbs.metadata, key: keyBytes) else { continue }
                let md = try ImageMetadata.decode(value, database: dbs.metadata.name, key: IndexKey.describe(raw: key))
                bySource[md.source, default: 0] += 1
            }
            return bySource
        }
    }

    /// Remembers `file` in the manifest's `source_files` (once per path and content).
    public func register(_ file: SourceFile) throws {
        let dbs = databases
        let p = path
        manifest = try environment.write { txn in
            var m = try dbs.readManifest(txn, path: p)
            if m.sourceFiles?.contains(file) == true { return m }
            m.sourceFiles = (m.sourceFiles ?? []) + [file]
            try dbs.writeManifest(m, txn)
            return m
        }
    }


    /// Validates, encodes and commits `records` in one write transaction. Records whose id is stored
    /// already (or repeats an earlier record of the batch) are skipped; with `replace`, the stored
    /// image of such an id is deleted and the record added under a new key, in the same commit.
    /// Nothing is written when any record is invalid.
    @discardableResult
    public func append(_ records: [ImageRecord], replace: Bool = false) throws -> AppendResult {
        let c = configuration
        let maxKey = environment.maxKeySize
        for r in records {
            let idBytes = r.id.utf8.count
            guard idBytes >= 1 && idBytes <= maxKey else {
                throw IndexError.invalidRecord(record: r.id, field: "id", expected: "1...\(maxKey) UTF-8 bytes", found: "\(idBytes) bytes")
            }
            guard r.regions.rank == 2, r.regions.shape[0] >= 1, r.regions.shape[1] == c.embedDim else {
                throw IndexError.invalidRecord(record: r.id, field: "regions", expected: "shape [n >= 1, \(c.embedDim)]", found: "\(r.regions.shape)")
            }
            if let b = r.boxes, b.count != r.regions.shape[0] * 4 {
                throw IndexError.invalidRecord(record: r.id, field: "boxes", expected: "\(r.regions.shape[0]) x 4 = \(r.regions.shape[0] * 4) values", found: "\(b.count)")
            }
            if let b = r.boxes, let bad = b.firstIndex(where: { !$0.isFinite }) {
                throw IndexError.invalidRecord(record: r.id, field: "boxes[\(bad)]", expected: "a finite value", found: "\(b[bad])")
            }
            guard r.prefilter.count == c.prefilterDim else {
                throw IndexError.invalidRecord(record: r.id, field: "prefilter", expected: "\(c.prefilterDim) values", found: "\(r.prefilter.count)")
            }
        }
        // Drop ids stored already and repeats inside the batch (the first occurrence wins).
        let existing = replace ? [] : try existingIDs(records.map(\.id))
        var seen = Set<String>()
        var todo: [Int] = []
        var skipped: [String] = []
        for (i, r) in records.enumerated() {
            if existing.contains(r.id) || !seen.insert(r.id).inserted { skipped.append(r.id) } else { todo.append(i) }
        }
        if todo.isEmpty { return AppendResult(appended: 0, skipped: skipped, keys: []) }
        if c.precision.isProductQuantized && regionCodec.codebook == nil {
            throw IndexError.invalidRecord(record: records[todo[0]].id, field: "regions", expected: "a codebook for \(c.precision.rawValue) (installCodebook first)", found: "none")
        }

        // Encode in parallel; report the first failure in batch order.
        var results = [Result<EncodedImage, Error>?](repeating: nil, count: todo.count)
        let rc = regionCodec, pc = prefilterCodec
        results.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(todo.count) { j in
                let r = records[todo[j]]
                out[j] = Result {
                    EncodedImage(id: r.id, source: r.source, regions: try rc.encodeRegions(r.regions, record: r.id),
                            prefilter: try pc.encodeVector(r.prefilter, record: r.id),
                            metadata: try r.metadata.encoded(),
                            rows: r.regions.shape[0])
                }
            }
        }
        let encoded = try results.map { try $0!.get() }
        let committed = try commit(encoded, replace: replace)
        return AppendResult(appended: committed.appended, skipped: skipped + committed.skipped, keys: committed.keys)
    }

    /// Commits records that are encoded already (e.g. copied from another index by a split), in one
    /// write transaction; ids stored already are skipped. Their checksums must have been checked by the caller.
    @discardableResult
    public func append(encoded: [EncodedImage]) throws -> AppendResult {
        let existing = try existingIDs(encoded.map(\.id))
        var seen = Set<String>()
        var todo: [EncodedImage] = []
        var skipped: [String] = []
        for e in encoded {
            if existing.contains(e.id) || !seen.insert(e.id).inserted { skipped.append(e.id) } else { todo.append(e) }
        }
        if todo.isEmpty { return AppendResult(appended: 0, skipped: skipped, keys: []) }
        let committed = try commit(todo)
        return AppendResult(appended: committed.appended, skipped: skipped + committed.skipped, keys: committed.keys)
    }

    /// With `replace`, the stored image of an id is deleted and the record added under a new key.
    private func commit(_ encoded: [EncodedImage], replace: Bool = false) throws -> AppendResult {
        let c = configuration
        let dbs = databases
        let p = path
        let (newManifest, keys, lateSkips) = try environment.write { txn -> (IndexManifest, [UInt64], [String]) in
            var m = try dbs.readManifest(txn, path: p)
            try IndexWriter.check(m, against: c, path: p)
            var next: UInt64 = 0
            // Deleted images keep their prefilter vector: the prefilter database holds every key ever given.
            if let last = try txn.lastKey(dbs.prefilter) {
                guard let k = last.withUnsafeBytes({ IndexKey.decode($0) }) else {
                    throw IndexError.corruptRecord(database: IndexDatabases.prefilterName, key: "last", reason: "key is \(last.count) bytes, expected 8")
                }
                next = k + 1
            }
            var keys: [UInt64] = []
            var late: [String] = []
            var addedRegions = 0
            for r in encoded {
                let key = IndexKey.encode(next)
                if replace, let old = try txn.get(dbs.ids, key: Array(r.id.utf8)) {
                    guard old.count == 8, let deletedDB = dbs.deleted else {
                        throw IndexError.corruptRecord(database: dbs.ids.name, key: r.id, reason: "value is \(old.count) bytes, expected 8")
                    }
                    m.regionCount -= try IndexWriter.remove(id: r.id, key: Array(old), txn, dbs, deletedDB)
                    m.deletedCount += 1
                }
                // Another writer process may have stored the id since the check above.
                guard try txn.put(dbs.ids, key: Array(r.id.utf8), value: key, noOverwrite: true) else {
                    late.append(r.id)
                    continue
                }
                try txn.put(dbs.regions, key: key, value: r.regions, append: true)
                try txn.put(dbs.prefilter, key: key, value: r.prefilter, append: true)
                try txn.put(dbs.metadata, key: key, value: r.metadata, append: true)
                keys.append(next)
                addedRegions += r.rows
                next += 1
                if !m.sources.contains(r.source) { m.sources.append(r.source) }
            }
            if !keys.isEmpty {
                m.imageCount += keys.count
                try PrefilterBlocks.extend(txn, dbs, through: m.imageCount, recordBytes: PrefilterBlocks.recordBytes(m))
                m.regionCount += addedRegions
                m.state = .building
                m.updatedAt = IndexManifest.timestamp()
                try dbs.writeManifest(m, txn)
            }
            return (m, keys, late)
        }
        manifest = newManifest
        return AppendResult(appended: keys.count, skipped: lateSkips, keys: keys)
    }

    /// What one `delete` did.
    public struct DeleteResult: Sendable, Equatable {
        public var deleted: Int
        /// Regions freed.
        public var regions: Int
    }

    /// Deletes the images with external ids `ids` in one write transaction: their region records,
    /// metadata and id entries are removed (LMDB reuses the freed pages), their keys are recorded in
    /// the `deleted` database, and the manifest's counts change in the same commit. The prefilter
    /// vector stays (the first stage is dense over keys; searches skip deleted keys). When any id is
    /// absent nothing is deleted and `IndexError.absentIDs` lists them. Repeated ids count once.
    @discardableResult
    public func delete(ids: [String]) throws -> DeleteResult {
        guard let deletedDB = databases.deleted else { throw IndexError.readOnly(path: path) }
        let dbs = databases
        let p = path
        var seen = Set<String>()
        let unique = ids.filter { seen.insert($0).inserted }
        if unique.isEmpty { return DeleteResult(deleted: 0, regions: 0) }
        let (m, result) = try environment.write { txn -> (IndexManifest, DeleteResult) in
            var m = try dbs.readManifest(txn, path: p)
            var keys: [[UInt8]] = []
            var absent: [String] = []
            for id in unique {
                guard let v = try txn.get(dbs.ids, key: Array(id.utf8)) else { absent.append(id); continue }
                guard v.count == 8 else { throw IndexError.corruptRecord(database: dbs.ids.name, key: id, reason: "value is \(v.count) bytes, expected 8") }
                keys.append(Array(v))
            }
            if !absent.isEmpty { throw IndexError.absentIDs(path: p, ids: absent) }
            var regions = 0
            for (id, key) in zip(unique, keys) { regions += try IndexWriter.remove(id: id, key: key, txn, dbs, deletedDB) }
            m.deletedCount += keys.count
            m.regionCount -= regions
            m.updatedAt = IndexManifest.timestamp()
            try dbs.writeManifest(m, txn)
            return (m, DeleteResult(deleted: keys.count, regions: regions))
        }
        manifest = m
        return result
    }

    /// Removes one image inside `txn` (see `delete`); returns its region count.
    static func remove(id: String, key: [UInt8], _ txn: LMDBTransaction, _ dbs: IndexDatabases, _ deletedDB: LMDBDatabase) throws -> Int {
        var rows = 0
        if let value = try txn.get(dbs.regions, key: key) {
            rows = try RecordCodec.header(of: value, kind: .regions, database: dbs.regions.name, key: id).rows
        }
        try txn.delete(dbs.regions, key: key)
        try txn.delete(dbs.metadata, key: key)
        try txn.delete(dbs.ids, key: Array(id.utf8))
        try txn.put(deletedDB, key: key, value: [])
        return rows
    }

    /// Marks the index complete after checking that every per-image database holds `image_count` entries.
    public func markComplete() throws {
        let dbs = databases
        let p = path
        manifest = try environment.write { txn in
            var m = try dbs.readManifest(txn, path: p)
            for db in dbs.perImage {
                let n = try txn.count(db)
                let expected = db.name == dbs.prefilter.name ? m.imageCount : m.liveCount
                guard n == expected else {
                    throw IndexError.badManifest(path: p, reason: "\(db.name == dbs.prefilter.name ? "image_count" : "live images (image_count - deleted_count)") is \(expected) but database '\(db.name)' holds \(n) entries")
                }
            }
            if let d = dbs.deleted, try txn.count(d) != m.deletedCount {
                throw IndexError.badManifest(path: p, reason: "deleted_count is \(m.deletedCount) but database 'deleted' holds \(try txn.count(d)) entries")
            }
            m.state = .complete
            m.updatedAt = IndexManifest.timestamp()
            try dbs.writeManifest(m, txn)
            return m
        }
    }
}
