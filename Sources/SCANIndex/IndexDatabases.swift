/// The named databases of an index environment.
public struct IndexDatabases: Sendable {
    public static let manifestName = "manifest"
    public static let regionsName = "regions"
    public static let prefilterName = "prefilter"
    public static let metadataName = "metadata"
    public static let idsName = "ids"
    public static let deletedName = "deleted"
    public static let prefilterBlocksName = "prefilter_blocks"
    /// Key of the manifest's JSON inside the `manifest` database.
    public static let manifestKey: [UInt8] = Array("manifest".utf8)
    /// Key of the product-quantisation codebook (a `codebook` record) inside the `manifest` database.
    public static let codebookKey: [UInt8] = Array("codebook".utf8)

    public let manifest: LMDBDatabase
    /// Internal key (8 bytes big endian) -> region record.
    public let regions: LMDBDatabase
    /// Internal key -> prefilter vector record.
    public let prefilter: LMDBDatabase
    /// Internal key -> framed metadata JSON.
    public let metadata: LMDBDatabase
    /// External id (UTF-8) -> internal key.
    public let ids: LMDBDatabase
    /// Internal key -> empty value, for every deleted image (nil in an index written before delete
    /// existed and opened read-only: it has deleted nothing).
    public let deleted: LMDBDatabase?
    /// Block number -> the prefilter records of 128 consecutive keys (`PrefilterBlocks`); nil in an
    /// index written before blocks existed and opened read-only (searches read records one by one).
    public let prefilterBlocks: LMDBDatabase?

    /// The per-image databases, each of which holds one entry per image.
    public var perImage: [LMDBDatabase] { [regions, prefilter, metadata, ids] }

    /// Opens (with `create`: creates) the databases of `env`.
    public init(_ env: LMDBEnvironment, create: Bool) throws {
        do {
            manifest = try env.database(Self.manifestName, create: create)
        } catch IndexError.missingDatabase {
            throw IndexError.missingIndex(path: env.path, reason: "no manifest database")
        }
        regions = try env.database(Self.regionsName, create: create)
        prefilter = try env.database(Self.prefilterName, create: create)
        metadata = try env.database(Self.metadataName, create: create)
        ids = try env.database(Self.idsName, create: create)
        do { deleted = try env.database(Self.deletedName, create: create) } catch IndexError.missingDatabase { deleted = nil }
        do { prefilterBlocks = try env.database(Self.prefilterBlocksName, create: create) } catch IndexError.missingDatabase { prefilterBlocks = nil }
    }

    /// Reads the manifest inside `txn`.
    public func readManifest(_ txn: LMDBTransaction, path: String) throws -> IndexManifest {
        guard let bytes = try txn.get(manifest, key: Self.manifestKey) else {
            throw IndexError.missingIndex(path: path, reason: "the manifest database holds no manifest")
        }
        return try IndexManifest.decode(bytes, path: path)
    }

    /// The codebook stored inside `txn`, or nil when the index has none.
    public func readCodebook(_ txn: LMDBTransaction, dim: Int) throws -> ProductQuantizer? {
        guard let bytes = try txn.get(manifest, key: Self.codebookKey) else { return nil }
        return try ProductQuantizer.decode(bytes, dim: dim, database: Self.manifestName, key: "codebook")
    }

    /// Stores `m` inside `txn`.
    public func writeManifest(_ m: IndexManifest, _ txn: LMDBTransaction) throws {
        try txn.put(manifest, key: Self.manifestKey, value: try m.jsonBytes())
    }
}
