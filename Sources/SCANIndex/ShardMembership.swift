import Foundation

/// Which shard of a shard set an index is: images whose external id hashes to `index` (of `count`).
///
/// The hash is XXH64 (seed 0) of the id's UTF-8 bytes, modulo `count`: it depends on the id alone,
/// so a build with `--shard i/N`, a split of a whole index and a later `add` all put an image in the
/// same shard, on any machine. `setFingerprint` names the set: the shard count, the hash and what
/// makes scores comparable across shards (model, prefilter, storage precisions, and a product-
/// quantised index's codebook, see `withCodebook`). Every shard of one
/// set carries the same fingerprint; a merger refuses shards whose fingerprints differ.
public struct ShardMembership: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The only hash scheme so far, written into the manifest so that a future one cannot be confused with it.
    public static let xxh64Scheme = "xxh64-utf8-id-mod-count"

    public var index: Int
    public var count: Int
    public var hash: String
    public var setFingerprint: String

    enum CodingKeys: String, CodingKey {
        case index, count, hash
        case setFingerprint = "set_fingerprint"
    }

    public init(index: Int, count: Int, setFingerprint: String, hash: String = ShardMembership.xxh64Scheme) {
        self.index = index; self.count = count; self.setFingerprint = setFingerprint; self.hash = hash
    }

    /// The shard of `id` in a set of `count` shards.
    public static func shard(ofID id: String, count: Int) -> Int {
        precondition(count >= 1, "shard count must be positive")
        return Int(XXH64.hash(Array(id.utf8)) % UInt64(count))
    }

    /// Whether `id` belongs to this shard.
    public func contains(id: String) -> Bool { ShardMembership.shard(ofID: id, count: count) == index }

    /// The fingerprint of a set of `count` shards of indexes built with this model, prefilter and precisions.
    public static func setFingerprint(count: Int, modelFingerprint: String, prefilterFingerprint: String?,
                                      precision: Precision, prefilterPrecision: Precision) -> String {
        let text = ["scan-shard-set-v1", xxh64Scheme, "count=\(count)", "model=\(modelFingerprint)",
                    "prefilter=\(prefilterFingerprint ?? "mean")", "precision=\(precision.rawValue)",
                    "prefilter_precision=\(prefilterPrecision.rawValue)"].joined(separator: "\n")
        return String(format: "%016llx", XXH64.hash(Array(text.utf8)))
    }

    /// This shard once its codebook is known (a product-quantised index): codes are comparable
    /// across shards only under one codebook, so the set fingerprint names it too. Applied once,
    /// when the codebook is installed, to the fingerprint of `setFingerprint(count:...)`.
    public func withCodebook(_ codebookFingerprint: String) -> ShardMembership {
        let text = ["scan-shard-set-codebook-v1", "set=\(setFingerprint)", "codebook=\(codebookFingerprint)"].joined(separator: "\n")
        return ShardMembership(index: index, count: count, setFingerprint: String(format: "%016llx", XXH64.hash(Array(text.utf8))), hash: hash)
    }

    /// Parses `i/N` (0 <= i < N, 1 <= N <= 4096).
    public static func parse(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), (1...maxCount).contains(n), (0..<n).contains(i) else { return nil }
        return (i, n)
    }

    public static let maxCount = 4096

    public var description: String { "shard \(index) of \(count) (set \(setFingerprint), \(hash))" }
}
