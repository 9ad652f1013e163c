import Foundation
import SCANIndex

/// Changes to an existing index that encode nothing: deleting images.
public enum IndexMaintenance {
    public struct DeleteReport: Sendable {
        public var deleted: Int
        public var regions: Int
        public var manifest: IndexManifest
    }

    /// `scan-index delete`: removes the images with external ids `ids` in one commit (all or nothing:
    /// `IndexError.absentIDs` names the ids the index does not hold, and nothing changes).
    public static func delete(index: String, ids: [String]) throws -> DeleteReport {
        let index = (index as NSString).standardizingPath
        try IndexLocation.requireIndex(index)
        let manifest = try IndexReader(path: index, allowIncomplete: true).manifest
        let writer = try IndexWriter(path: index, configuration: IndexWriter.Configuration(
            modelFingerprint: manifest.modelFingerprint, modelName: manifest.modelName, embedDim: manifest.embedDim, imgDim: manifest.imgDim,
            precision: manifest.precision, prefilterKind: manifest.prefilterKind, prefilterDim: manifest.prefilterDim,
            prefilterPrecision: manifest.prefilterPrecision, prefilterFingerprint: manifest.prefilterFingerprint))
        let r = try writer.delete(ids: ids)
        return DeleteReport(deleted: r.deleted, regions: r.regions, manifest: writer.manifest)
    }
}
