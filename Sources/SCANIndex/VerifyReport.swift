/// What `IndexReader.verify()` found.
public struct VerifyReport: Sendable {
    /// One damaged or inconsistent entry.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var database: String
        /// The internal key (decimal) or external id of the entry.
        public var key: String
        public var reason: String
        public var description: String { "database '\(database)', key \(key): \(reason)" }
    }

    public var manifest: IndexManifest
    /// Entries per database.
    public var databaseCounts: [String: Int]
    /// Regions summed over the records that decoded.
    public var decodedRegionCount: Int
    /// Records (of any database) that decoded and passed their checks.
    public var validRecords: Int
    /// True when the prefilter database holds image_count entries, regions, metadata and ids the live
    /// images, 'deleted' deleted_count, and the decoded regions sum to region_count.
    public var countsOK: Bool
    public var problems: [Problem]
    /// Internal keys of images with a corrupt or missing record in any database, ascending.
    public var corruptKeys: [UInt64]

    public var isOK: Bool { countsOK && problems.isEmpty }

    /// A few lines for a terminal.
    public var summary: String {
        var lines = ["images: \(manifest.liveCount) live, \(manifest.deletedCount) deleted (\(manifest.imageCount) keys) in manifest; " +
            ["regions", "prefilter", "metadata", "ids", "deleted"].map { "\($0) \(databaseCounts[$0] ?? 0)" }.joined(separator: ", "),
            "regions: \(manifest.regionCount) in manifest, \(decodedRegionCount) decoded",
            "counts: \(countsOK ? "ok" : "MISMATCH"); problems: \(problems.count)"]
        lines += problems.prefix(20).map { "  " + $0.description }
        if problems.count > 20 { lines.append("  ... \(problems.count - 20) more") }
        return lines.joined(separator: "\n")
    }
}
