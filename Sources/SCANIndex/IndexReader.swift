import Foundation
import SCANCore

/// Read access to an index directory for searchers.
///
/// The reader loads the manifest at opening; every query should take one `snapshot` (an LMDB read
/// transaction) and read everything it needs through it, so that it sees one commit even while a
/// writer appends.
public final class IndexReader: @unchecked Sendable {
    public let path: String
    /// The manifest as of opening (a snapshot carries its own).
    public let manifest: IndexManifest
    public let environment: LMDBEnvironment
    public let databases: IndexDatabases
    /// The parsed codebook, shared by this reader's snapshots.
    private let codebookCache = CodebookCache()

    /// Opens the index at `path`. Fails for a missing index, an unsupported format version, or a
    /// state other than `complete` unless `allowIncomplete`.
    public init(path: String, allowIncomplete: Bool = false) throws {
        let path = (path as NSString).standardizingPath
        self.path = path
        environment = try LMDBEnvironment.open(path: path, readOnly: true)
        databases = try IndexDatabases(environment, create: false)
        let dbs = databases
        manifest = try environment.read { try dbs.readManifest($0, path: path) }
        if manifest.state != .complete && !allowIncomplete {
            throw IndexError.incompleteIndex(path: path, state: manifest.state.rawValue)
        }
    }

    /// A new snapshot of the current commit; close it (or drop it) when the query is done.
    public func snapshot() throws -> IndexSnapshot {
        try IndexSnapshot(path: path, environment: environment, databases: databases, codebookCache: codebookCache)
    }

    /// Runs `body` with a snapshot that is closed afterwards.
    public func withSnapshot<T>(_ body: (IndexSnapshot) throws -> T) throws -> T {
        let s = try snapshot()
        defer { s.close() }
        return try body(s)
    }

    /// All prefilter vectors of the current commit (see `IndexSnapshot.prefilterMatrix`).
    public func prefilterMatrix() throws -> PrefilterMatrix {
        try withSnapshot { try $0.prefilterMatrix() }
    }

    /// Decodes every record of one snapshot, checks every checksum and that the manifest's counts
    /// equal the entries of every database, and reports all problems found (it throws only when the
    /// index cannot be read at all).
    public func verify() throws -> VerifyReport {
        try withSnapshot { s in try IndexReader.verify(s) }
    }

    private struct Entry { var key: UInt64?; var rawKey: String; var value: UnsafeRawBufferPointer }

    static func verify(_ s: IndexSnapshot) throws -> VerifyReport {
        let m = s.manifest
        let dbs = s.databases
        var problems: [VerifyReport.Problem] = []
        var counts: [String: Int] = [:]
        for db in dbs.perImage { counts[db.name] = try s.entryCount(db) }
        var deletedKeys = Set<UInt64>()
        if let d = dbs.deleted {
            counts[d.name] = try s.entryCount(d)
            try s.forEach(d) { k, _ in
                if let key = IndexKey.decode(k) { deletedKeys.insert(key) } else {
                    problems.append(.init(database: d.name, key: IndexKey.describe(raw: k), reason: "key is not 8 bytes"))
                }
                return true
            }
        }

        func entries(_ db: LMDBDatabase) throws -> [Entry] {
            var out: [Entry] = []
            out.reserveCapacity(counts[db.name] ?? 0)
            try s.forEach(db) { k, v in
                out.append(Entry(key: IndexKey.decode(k), rawKey: IndexKey.describe(raw: k), value: v))
                return true
            }
            return out
        }
        let regionEntries = try entries(dbs.regions)
        let prefilterEntries = try entries(dbs.prefilter)
        let metadataEntries = try entries(dbs.metadata)

        // A product-quantised index needs its codebook to decode any region record.
        var codebook: ProductQuantizer?
        if m.precision.isProductQuantized {
            do {
                codebook = try s.codebook()
                if codebook == nil && !regionEntries.isEmpty {
                    problems.append(.init(database: dbs.manifest.name, key: "codebook", reason: "missing: the regions are \(m.precision.rawValue)"))
                } else if let cb = codebook, cb.subDim != m.precision.subDim {
                    problems.append(.init(database: dbs.manifest.name, key: "codebook", reason: "sub_dim \(cb.subDim), precision \(m.precision.rawValue)"))
                } else if let cb = codebook, let named = m.codebookFingerprint, cb.fingerprint != named {
                    // The shard set fingerprint was made from the named codebook: another one breaks the set's promise.
                    problems.append(.init(database: dbs.manifest.name, key: "codebook", reason: "fingerprint \(cb.fingerprint), manifest codebook_fingerprint \(named)"))
                } else if codebook == nil, let named = m.codebookFingerprint {
                    problems.append(.init(database: dbs.manifest.name, key: "codebook", reason: "missing: the manifest names codebook \(named)"))
                }
            } catch {
                problems.append(.init(database: dbs.manifest.name, key: "codebook", reason: reason(error)))
            }
        }

        // Decode region records in parallel, one scratch buffer per chunk.
        var regionRows = [Int](repeating: -1, count: regionEntries.count)
        var regionErrors = [String?](repeating: nil, count: regionEntries.count)
        regionRows.withUnsafeMutableBufferPointer { rows in
            regionErrors.withUnsafeMutableBufferPointer { errs in
                Parallel.forChunks(regionEntries.count, minChunk: 16) { range in
                    var scratch = [Float](repeating: 0, count: 64 * m.embedDim)
                    for i in range {
                        let e = regionEntries[i]
                        guard e.key != nil else { errs[i] = "key is not 8 bytes"; continue }
                        do {
                            let h = try RecordCodec.header(of: e.value, kind: .regions, database: dbs.regions.name, key: e.rawKey)
                            if h.valueCount > scratch.count { scratch = [Float](repeating: 0, count: h.valueCount) }
                            try scratch.withUnsafeMutableBufferPointer {
                                _ = try RecordCodec.decode(e.value, kind: .regions, database: dbs.regions.name, key: e.rawKey, into: $0, codebook: codebook)
                            }
                            if h.dim != m.embedDim { errs[i] = "dim \(h.dim), manifest embed_dim \(m.embedDim)"; continue }
                            if h.rows < 1 { errs[i] = "no regions"; continue }
                            if h.precision != m.precision {
                                errs[i] = "precision \(h.precision.rawValue), manifest \(m.precision.rawValue)"; continue
                            }
                            rows[i] = h.rows
                        } catch let IndexError.corruptRecord(_, _, reason) {
                            errs[i] = reason
                        } catch {
                            errs[i] = "\(error)"
                        }
                    }
                }
            }
        }
        var valid = 0
        var decodedRegions = 0
        var corruptKeys = Set<UInt64>()
        for (i, e) in regionEntries.enumerated() {
            if let err = regionErrors[i] {
                problems.append(.init(database: dbs.regions.name, key: e.rawKey, reason: err))
                if let k = e.key { corruptKeys.insert(k) }
            } else {
                valid += 1
                decodedRegions += regionRows[i]
            }
        }

        // Prefilter vectors and metadata are small: decode sequentially.
        var goodPrefilter: [UInt64: UnsafeRawBufferPointer] = [:]
        goodPrefilter.reserveCapacity(prefilterEntries.count)
        for e in prefilterEntries {
            do {
                guard let key = e.key else { throw IndexError.corruptRecord(database: dbs.prefilter.name, key: e.rawKey, reason: "key is not 8 bytes") }
                let v = try RecordCodec.decodeVector(e.value, database: dbs.prefilter.name, key: e.rawKey)
                guard v.count == m.prefilterDim else {
                    throw IndexError.corruptRecord(database: dbs.prefilter.name, key: e.rawKey, reason: "\(v.count) values, manifest prefilter_dim \(m.prefilterDim)")
                }
                goodPrefilter[key] = e.value
                valid += 1
            } catch {
                problems.append(.init(database: dbs.prefilter.name, key: e.rawKey, reason: reason(error)))
                if let k = e.key { corruptKeys.insert(k) }
            }
        }
        var metadataIDs: [UInt64: String] = [:]
        for e in metadataEntries {
            do {
                guard let k = e.key else { throw IndexError.corruptRecord(database: dbs.metadata.name, key: e.rawKey, reason: "key is not 8 bytes") }
                let md = try ImageMetadata.decode(e.value, database: dbs.metadata.name, key: e.rawKey)
                metadataIDs[k] = md.id
                valid += 1
            } catch {
                problems.append(.init(database: dbs.metadata.name, key: e.rawKey, reason: reason(error)))
                if let k = e.key { corruptKeys.insert(k) }
            }
        }

        // ids -> key must point at an image whose metadata carries the same id.
        let regionKeys = Set(regionEntries.compactMap(\.key))
        var idTargets = Set<UInt64>()
        try s.forEach(dbs.ids) { k, v in
            let id = String(decoding: k, as: UTF8.self)
            guard let key = IndexKey.decode(v) else {
                problems.append(.init(database: dbs.ids.name, key: id, reason: "value is \(v.count) bytes, expected 8"))
                return true
            }
            idTargets.insert(key)
            if !regionKeys.contains(key) {
                problems.append(.init(database: dbs.ids.name, key: id, reason: "points at key \(key), which has no region record"))
                corruptKeys.insert(key)
            } else if let mid = metadataIDs[key], mid != id {
                problems.append(.init(database: dbs.ids.name, key: id, reason: "points at key \(key), whose metadata id is '\(mid)'"))
                corruptKeys.insert(key)
            } else {
                valid += 1
            }
            return true
        }
        // Every live image key must be present in every per-image database; a deleted one only in
        // the prefilter database (and in 'deleted').
        let prefilterKeys = Set(prefilterEntries.compactMap(\.key))
        let others: [(String, Set<UInt64>)] = [(dbs.prefilter.name, prefilterKeys),
                                               (dbs.metadata.name, Set(metadataEntries.compactMap(\.key))),
                                               (dbs.ids.name, idTargets)]
        let allKeys = others.reduce(regionKeys) { $0.union($1.1) }.union(deletedKeys)
        for k in allKeys.sorted() {
            if deletedKeys.contains(k) {
                if !prefilterKeys.contains(k) {
                    problems.append(.init(database: dbs.prefilter.name, key: String(k), reason: "no entry for this deleted image (keys stay dense)"))
                }
                for (name, set) in [(dbs.regions.name, regionKeys)] + others.dropFirst() where set.contains(k) {
                    problems.append(.init(database: name, key: String(k), reason: "entry of a deleted image"))
                    corruptKeys.insert(k)
                }
                continue
            }
            for (name, set) in [(dbs.regions.name, regionKeys)] + others where !set.contains(k) {
                problems.append(.init(database: name, key: String(k), reason: "no entry for this image"))
                corruptKeys.insert(k)
            }
        }

        // The blocks repeat the prefilter records for rescoring: they must hold each key's record.
        if let b = dbs.prefilterBlocks { counts[b.name] = try s.entryCount(b) }
        problems += try PrefilterBlocks.verify(s, count: m.imageCount, records: goodPrefilter)

        let live = m.imageCount - m.deletedCount
        let countsOK = dbs.perImage.allSatisfy { counts[$0.name] == ($0.name == dbs.prefilter.name ? m.imageCount : live) }
            && (counts[IndexDatabases.deletedName] ?? 0) == m.deletedCount && deletedKeys.count == m.deletedCount
            && decodedRegions == m.regionCount
        return VerifyReport(manifest: m, databaseCounts: counts, decodedRegionCount: decodedRegions, validRecords: valid,
                            countsOK: countsOK, problems: problems, corruptKeys: corruptKeys.sorted())
    }

    private static func reason(_ error: Error) -> String {
        if case let IndexError.corruptRecord(_, _, reason) = error { return reason }
        return "\(error)"
    }
}
