import Foundation
import SCANCore
import SCANIndex

/// What `scan-index info` prints: the manifest and the sizes on disk.
public struct IndexInfo: Sendable {
    public var path: String
    public var manifest: IndexManifest
    /// Size of `data.mdb` (LMDB's file: values, B-tree pages and free pages).
    public var dataFileBytes: Int
    /// Bytes of the stored values of each per-image database.
    public var valueBytes: [String: Int]
    /// Size of the model copy.
    public var modelCopyBytes: Int
    /// Metadata of the fitted prefilter (what it was fitted on), empty for the plain mean.
    public var prefilterMetadata: [String: String]

    public init(index: String) throws {
        let path = (index as NSString).standardizingPath
        try IndexLocation.requireIndex(path)
        self.path = path
        let reader = try IndexReader(path: path, allowIncomplete: true)
        var sizes: [String: Int] = [:]
        manifest = try reader.withSnapshot { s in
            for db in s.databases.perImage + [s.databases.prefilterBlocks].compactMap({ $0 }) {
                var total = 0
                try s.forEach(db) { _, v in total += v.count; return true }
                sizes[db.name] = total
            }
            return s.manifest
        }
        valueBytes = sizes
        let fm = FileManager.default
        dataFileBytes = ((try? fm.attributesOfItem(atPath: path + "/data.mdb"))?[.size] as? Int) ?? 0
        let model = IndexLocation.modelDirectory(ofIndex: path)
        modelCopyBytes = ((try? fm.contentsOfDirectory(atPath: model)) ?? []).reduce(0) {
            $0 + (((try? fm.attributesOfItem(atPath: model + "/" + $1))?[.size] as? Int) ?? 0)
        }
        let pf = (model as NSString).appendingPathComponent("prefilter.safetensors")
        prefilterMetadata = fm.fileExists(atPath: pf) ? ((try? SafetensorsFile(path: pf))?.metadata ?? [:]) : [:]
    }

    /// Bytes of the raw float32 features of one image with the average region count.
    public var rawFeatureBytesPerImage: Double {
        manifest.imageCount == 0 ? 0 : Double(manifest.regionCount) / Double(manifest.imageCount) * Double(manifest.imgDim) * 4
    }

    public var text: String {
        let m = manifest
        let n = max(1, m.imageCount)
        func mb(_ b: Int) -> String { String(format: "%.2f MB", Double(b) / 1e6) }
        var lines = [
            "index: \(path)",
            "state: \(m.state.rawValue); format version \(m.formatVersion); created \(m.createdAt), updated \(m.updatedAt)",
            "model: \(m.modelName) (fingerprint \(m.modelFingerprint)); embed_dim \(m.embedDim), img_dim \(m.imgDim)",
            "images: \(m.liveCount) live, \(m.deletedCount) deleted; regions: \(m.regionCount)" + (m.liveCount > 0 ? String(format: " (%.1f per live image)", Double(m.regionCount) / Double(max(1, m.liveCount))) : ""),
            "region precision: \(m.precision.rawValue)" + (m.codebookFingerprint.map { " (codebook fingerprint \($0))" } ?? ""),
            "prefilter: \(m.prefilterKind.rawValue), dim \(m.prefilterDim), stored as \(m.prefilterPrecision.rawValue)"
                + (m.prefilterFingerprint.map { " (fingerprint \($0))" } ?? " (plain mean of the regions: poor retention)"),
        ]
        if let sh = m.shard {
            lines.append("shard: \(sh.index) of \(sh.count) of shard set \(sh.setFingerprint) (images whose XXH64(UTF-8 id) mod \(sh.count) is \(sh.index)"
                + (m.codebookFingerprint != nil ? "; the set's fingerprint names the codebook)" : ")"))
        }
        if !prefilterMetadata.isEmpty {
            lines.append("prefilter fitted: " + prefilterMetadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        let resident = ResidentPrefilter(dim: m.prefilterDim)
        let compact = CompactPrefilter(dim: m.prefilterDim)
        lines.append("first stage for search: compact 4-bit codes, \(compact.bytesPerImage) bytes per image resident (\(mb(compact.bytesPerImage * m.imageCount))), shortlist rescored from the stored vectors (prefilter_blocks: the same records 128 keys to a value, for fast lookups); "
            + "float32 alternative: \(resident.storage.rawValue), \(resident.bytesPerImage) bytes per image")
        lines.append("sources: " + (m.sources.isEmpty ? "-" : m.sources.joined(separator: ", ")))
        lines.append("data.mdb: \(mb(dataFileBytes))" + (m.imageCount > 0 ? String(format: ", %.0f bytes per image", Double(dataFileBytes) / Double(n)) : ""))
        for name in ["regions", "prefilter", IndexDatabases.prefilterBlocksName, "metadata", "ids"] {
            guard let b = valueBytes[name] else { continue }
            lines.append("  \(name): \(mb(b)) of values" + (m.imageCount > 0 ? String(format: ", %.0f bytes per image", Double(b) / Double(n)) : ""))
        }
        if m.imageCount > 0 {
            let raw = rawFeatureBytesPerImage
            let enc = Double(m.regionCount) / Double(n) * Double(m.embedDim) * 4
            lines.append(String(format: "raw float32 features: %.0f bytes per image; data.mdb is %.1f%% of that (%.1f%% of the float32 encoded regions)",
                                raw, 100 * Double(dataFileBytes) / Double(n) / raw, 100 * Double(dataFileBytes) / Double(n) / enc))
        }
        lines.append("model copy: \(mb(modelCopyBytes))")
        return lines.joined(separator: "\n")
    }
}
