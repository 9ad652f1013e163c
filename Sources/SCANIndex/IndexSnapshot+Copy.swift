import Foundation

extension IndexSnapshot {
    /// Image `key`'s stored values, checksums checked, ready for another index's `IndexWriter.append(encoded:)`.
    /// A corrupt record throws (it is never copied).
    public func encodedImage(_ key: UInt64) throws -> EncodedImage {
        let k = IndexKey.encode(key)
        let name = String(key)
        func value(_ db: LMDBDatabase) throws -> UnsafeRawBufferPointer {
            guard let v = try rawValue(db, key: k) else { throw IndexError.missingRecord(database: db.name, key: name) }
            return v
        }
        let regions = try value(databases.regions)
        let header = try RecordCodec.check(regions, kind: .regions, database: databases.regions.name, key: name)
        let prefilter = try value(databases.prefilter)
        try RecordCodec.check(prefilter, kind: .vector, database: databases.prefilter.name, key: name)
        let metadataValue = try value(databases.metadata)
        let md = try ImageMetadata.decode(metadataValue, database: databases.metadata.name, key: name)
        return EncodedImage(id: md.id, source: md.source, regions: Array(regions), prefilter: Array(prefilter),
                            metadata: Array(metadataValue), rows: header.rows)
    }

    /// A fingerprint of the images' contents, independent of their internal keys and order: the
    /// wrapping sum over images of XXH64(id, stored regions, prefilter and metadata bytes). Two indexes
    /// with equal fingerprints hold the same ids with byte-identical records (a split's shard and the
    /// same shard built directly, or shards built in parallel and one by one).
    public func contentFingerprint() throws -> String {
        var entries: [(id: [UInt8], key: UInt64?)] = []
        entries.reserveCapacity(manifest.imageCount)
        try forEach(databases.ids) { id, keyBytes in
            entries.append((Array(id), IndexKey.decode(keyBytes)))
            return true
        }
        var sum: UInt64 = 0
        for e in entries {
            guard let key = e.key else {
                throw IndexError.corruptRecord(database: databases.ids.name, key: String(decoding: e.id, as: UTF8.self), reason: "value is not 8 bytes")
            }
            var h = XXH64.hash(e.id)
            for db in [databases.regions, databases.prefilter, databases.metadata] {
                guard let v = try rawValue(db, key: IndexKey.encode(key)) else { throw IndexError.missingRecord(database: db.name, key: String(key)) }
                h = XXH64.hash(v, seed: h)
            }
            sum = sum &+ h
        }
        return String(format: "%016llx", sum)
    }
}
