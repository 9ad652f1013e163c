import Foundation
import SCANCore
import SCANIndex

/// What `IndexSplitter.split` did.
public struct SplitReport: Sendable {
    public var source: String
    /// The shard indexes, shard 0 first.
    public var paths: [String]
    /// Images each shard holds after the split.
    public var counts: [Int]
    /// Images copied by this run (fewer than the total when a split is resumed).
    public var copied: Int
    public var setFingerprint: String
    public var seconds: Double

    public var summary: String {
        var lines = [String(format: "%@: %d images in %d shards (set %@), %d copied in %.1f s", source, counts.reduce(0, +), paths.count,
                            setFingerprint, copied, seconds)]
        for (i, p) in paths.enumerated() { lines.append("  shard \(i): \(p) (\(counts[i]) images)") }
        return lines.joined(separator: "\n")
    }
}

/// Cuts a whole index into the shards of a shard set by the hash of each image's id, copying the
/// stored records without decoding or re-encoding them (their checksums are checked on the way: a
/// corrupt record stops the split and is never copied). The shards get the source's model copy, so
/// they are exactly the indexes `scan-index build --shard i/N` makes from the same source and model.
/// Re-running an interrupted split resumes it (ids a shard holds already are skipped); a shard is
/// marked complete only after every image was copied.
public enum IndexSplitter {
    /// The directory of shard `index` of `count` for `--out PREFIX`.
    public static func shardPath(prefix: String, index: Int, count: Int) -> String { "\(prefix)-\(index)-of-\(count)" }

    public static func split(index: String, shards count: Int, outPrefix: String, batchSize: Int = 256) throws -> SplitReport {
        let t0 = ProgressReporter.now()
        let index = (index as NSString).standardizingPath
        guard (1...ShardMembership.maxCount).contains(count) else {
            throw SearchError.invalidArgument("--shards must be in 1...\(ShardMembership.maxCount), got \(count)")
        }
        try IndexLocation.requireIndex(index)
        let reader = try IndexReader(path: index)
        let manifest = reader.manifest
        if let s = manifest.shard {
            throw SearchError.invalidArgument("\(index) is \(s): split the whole index it came from (or build each shard with --shard)")
        }
        let model = try IndexModel.loadCopy(ofIndex: index, manifest: manifest)
        var o = BuildOptions()
        o.precision = manifest.precision
        o.prefilterPrecision = manifest.prefilterPrecision
        o.showProgress = false
        var builders: [IndexBuilder] = []
        for i in 0..<count {
            o.shard = (i, count)
            let path = shardPath(prefix: outPrefix, index: i, count: count)
            guard (path as NSString).standardizingPath != index else { throw SearchError.invalidArgument("--out names the source index itself") }
            let b = try IndexBuilder.open(creating: path, model: model, options: o)
            for f in manifest.sourceFiles ?? [] { try b.writer.register(f) }
            builders.append(b)
        }
        // Records are copied as they are stored: a product-quantised index's shards need its codebook.
        if manifest.precision.isProductQuantized {
            guard let codebook = try reader.withSnapshot({ try $0.codebook() }) else {
                throw IndexError.missingRecord(database: "manifest", key: "codebook")
            }
            for b in builders where b.writer.codebook == nil { try b.writer.installCodebook(codebook) }
        }
        var copied = 0
        try reader.withSnapshot { s in
            let keys = try s.keys()
            for start in stride(from: 0, to: keys.count, by: max(1, batchSize)) {
                var groups = [[EncodedImage]](repeating: [], count: count)
                for key in keys[start..<min(keys.count, start + batchSize)] {
                    let e = try s.encodedImage(key)
                    groups[ShardMembership.shard(ofID: e.id, count: count)].append(e)
                }
                for (i, g) in groups.enumerated() where !g.isEmpty { copied += try builders[i].writer.append(encoded: g).appended }
            }
        }
        let total = builders.reduce(0) { $0 + $1.writer.manifest.imageCount }
        guard total == manifest.imageCount else {
            throw SearchError.invalidArgument("the shards hold \(total) images, the source \(manifest.imageCount): were the shard directories used for something else?")
        }
        for b in builders { try b.markComplete() }
        return SplitReport(source: index, paths: builders.map(\.indexPath), counts: builders.map { $0.writer.manifest.imageCount },
                           copied: copied, setFingerprint: builders[0].writer.manifest.shard?.setFingerprint ?? "", seconds: ProgressReporter.now() - t0)
    }
}
