import Foundation

/// The index's description, stored as JSON under the key "manifest" of the `manifest` database
/// and updated in the same transaction as the data it counts.
public struct IndexManifest: Codable, Equatable, Sendable {
    public static let currentFormatVersion = 1

    public enum State: String, Codable, Sendable {
        /// Batches are being appended; the index is consistent at every commit but not finished.
        case building
        /// `IndexWriter.markComplete()` ran after the last batch.
        case complete
    }

    public enum PrefilterKind: String, Codable, Sendable {
        /// The mean of the image's encoded regions.
        case mean
        /// A learned projection (computed by the model side; the index only stores the vectors).
        case projection
    }

    public var formatVersion: Int
    public var state: State
    /// Identifies the model the regions were encoded with (e.g. a hash of its weights and config).
    public var modelFingerprint: String
    public var modelName: String
    /// Dimension of the stored region vectors (the model's embed_size).
    public var embedDim: Int
    /// Dimension of the raw image features the model reads.
    public var imgDim: Int
    /// Storage precision of the region vectors.
    public var precision: Precision
    public var prefilterKind: PrefilterKind
    public var prefilterDim: Int
    public var prefilterPrecision: Precision
    /// Identifies the projection of a `projection` prefilter (e.g. a hash of its file); nil for the plain mean.
    /// Optional in the JSON (absent in indexes written before it existed).
    public var prefilterFingerprint: String?
    /// Number of image slots: internal keys 0 ..< image_count, each with a prefilter vector. A live
    /// image also has its region record, metadata and id; a deleted one only keeps its prefilter
    /// vector (so that the first stage stays dense) and an entry in the `deleted` database.
    public var imageCount: Int
    /// Images deleted (`scan-index delete`); absent in the JSON of indexes written before delete existed.
    public var deletedCount: Int
    /// Images that searches can return.
    public var liveCount: Int { imageCount - deletedCount }
    /// Total number of stored regions over all images.
    public var regionCount: Int
    /// ISO 8601 UTC timestamps.
    public var createdAt: String
    public var updatedAt: String
    /// The distinct source descriptions of the appended images, in first-appended order.
    public var sources: [String]
    /// The sources' files with size and fingerprint, in first-appended order (absent in indexes written
    /// before it existed): a build re-run on the same source resumes, another source's colliding ids are refused.
    public var sourceFiles: [SourceFile]? = nil
    /// Set when the index is one shard of a shard set (absent for a whole index).
    public var shard: ShardMembership? = nil
    /// `ProductQuantizer.fingerprint` of the stored codebook of a product-quantised index, written
    /// with it (absent before one is installed, and in indexes written before it existed).
    public var codebookFingerprint: String? = nil

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", state
        case modelFingerprint = "model_fingerprint", modelName = "model_name"
        case embedDim = "embed_dim", imgDim = "img_dim", precision
        case prefilterKind = "prefilter_kind", prefilterDim = "prefilter_dim", prefilterPrecision = "prefilter_precision"
        case prefilterFingerprint = "prefilter_fingerprint"
        case imageCount = "image_count", deletedCount = "deleted_count", regionCount = "region_count"
        case createdAt = "created_at", updatedAt = "updated_at", sources
        case sourceFiles = "source_files"
        case shard
        case codebookFingerprint = "codebook_fingerprint"
    }

    public init(modelFingerprint: String, modelName: String, embedDim: Int, imgDim: Int, precision: Precision,
                prefilterKind: PrefilterKind, prefilterDim: Int, prefilterPrecision: Precision,
                prefilterFingerprint: String? = nil, state: State = .building, imageCount: Int = 0, regionCount: Int = 0,
                createdAt: String = IndexManifest.timestamp(), updatedAt: String? = nil, sources: [String] = [],
                formatVersion: Int = IndexManifest.currentFormatVersion) {
        self.formatVersion = formatVersion
        self.state = state
        self.modelFingerprint = modelFingerprint
        self.modelName = modelName
        self.embedDim = embedDim
        self.imgDim = imgDim
        self.precision = precision
        self.prefilterKind = prefilterKind
        self.prefilterDim = prefilterDim
        self.prefilterPrecision = prefilterPrecision
        self.prefilterFingerprint = prefilterFingerprint
        self.imageCount = imageCount
        self.deletedCount = 0
        self.regionCount = regionCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.sources = sources
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try c.decode(Int.self, forKey: .formatVersion)
        state = try c.decode(State.self, forKey: .state)
        modelFingerprint = try c.decode(String.self, forKey: .modelFingerprint)
        modelName = try c.decode(String.self, forKey: .modelName)
        embedDim = try c.decode(Int.self, forKey: .embedDim)
        imgDim = try c.decode(Int.self, forKey: .imgDim)
        precision = try c.decode(Precision.self, forKey: .precision)
        prefilterKind = try c.decode(PrefilterKind.self, forKey: .prefilterKind)
        prefilterDim = try c.decode(Int.self, forKey: .prefilterDim)
        prefilterPrecision = try c.decode(Precision.self, forKey: .prefilterPrecision)
        prefilterFingerprint = try c.decodeIfPresent(String.self, forKey: .prefilterFingerprint)
        imageCount = try c.decode(Int.self, forKey: .imageCount)
        deletedCount = try c.decodeIfPresent(Int.self, forKey: .deletedCount) ?? 0
        regionCount = try c.decode(Int.self, forKey: .regionCount)
        createdAt = try c.decode(String.self, forKey: .createdAt)
        updatedAt = try c.decode(String.self, forKey: .updatedAt)
        sources = try c.decode([String].self, forKey: .sources)
        sourceFiles = try c.decodeIfPresent([SourceFile].self, forKey: .sourceFiles)
        shard = try c.decodeIfPresent(ShardMembership.self, forKey: .shard)
        codebookFingerprint = try c.decodeIfPresent(String.self, forKey: .codebookFingerprint)
    }

    /// The current time as ISO 8601 UTC (seconds).
    public static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// Compact JSON with sorted keys.
    public func jsonBytes() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return Array(try enc.encode(self))
    }

    private struct VersionOnly: Decodable {
        var formatVersion: Int?
        enum CodingKeys: String, CodingKey { case formatVersion = "format_version" }
    }

    /// Parses a stored manifest; a format version other than `currentFormatVersion` is an error
    /// (checked before the other fields, which a future version may change).
    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> IndexManifest {
        let data = Data(bytes)
        let dec = JSONDecoder()
        let version: VersionOnly
        do { version = try dec.decode(VersionOnly.self, from: data) } catch {
            throw IndexError.badManifest(path: path, reason: "not a JSON object: \(error)")
        }
        guard let v = version.formatVersion else { throw IndexError.badManifest(path: path, reason: "no format_version") }
        guard v == currentFormatVersion else {
            throw IndexError.unsupportedFormatVersion(path: path, expected: currentFormatVersion, found: v)
        }
        let m: IndexManifest
        do { m = try dec.decode(IndexManifest.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw IndexError.badManifest(path: path, reason: "missing field '\(key.stringValue)'")
        } catch let DecodingError.dataCorrupted(ctx) {
            throw IndexError.badManifest(path: path, reason: "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)")
        } catch {
            throw IndexError.badManifest(path: path, reason: "\(error)")
        }
        guard m.embedDim > 0, m.imgDim > 0, m.prefilterDim > 0, m.imageCount >= 0, m.regionCount >= 0,
              m.deletedCount >= 0, m.deletedCount <= m.imageCount else {
            throw IndexError.badManifest(path: path, reason: "dims must be positive, counts non-negative and deleted_count at most image_count")
        }
        if let s = m.shard {
            guard (1...ShardMembership.maxCount).contains(s.count), (0..<s.count).contains(s.index) else {
                throw IndexError.badManifest(path: path, reason: "shard: expected 0 <= index < count <= \(ShardMembership.maxCount), found \(s.index)/\(s.count)")
            }
            guard s.hash == ShardMembership.xxh64Scheme else {
                throw IndexError.badManifest(path: path, reason: "shard.hash: expected '\(ShardMembership.xxh64Scheme)', found '\(s.hash)'")
            }
        }
        if let f = m.codebookFingerprint, !(f.utf8.count == 16 && f.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })) {
            throw IndexError.badManifest(path: path, reason: "codebook_fingerprint: expected 16 lowercase hex digits, found '\(f)'")
        }
        return m
    }
}
