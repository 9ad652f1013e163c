import Foundation
import SCANCore


/// Opens the feature source a path names: a precomp `.npy` (N x regions x img_dim, optionally with
/// captions and ids), a directory of per-image `.npy` files, or a bottom-up-attention `.tsv`.
public enum FeatureSources {
    public enum Kind: String, Sendable { case precomp, npyDirectory = "npy-directory", tsv }

    /// What was opened, with notes for the user (e.g. a captions file found next to the features).
    public struct Opened {
        public var source: FeatureSource
        public var kind: Kind
        public var notes: [String]
    }

    /// `captions` and `ids` apply to a precomp `.npy` only. With `autoCaptions`, a precomp
    /// `{split}_ims.npy` without `captions` uses `{split}_caps.txt` from the same folder when it exists.
    public static func open(path: String, captions: String? = nil, ids: String? = nil, autoCaptions: Bool = true) throws -> Opened {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DatasetError.cannotOpen(file: path, reason: "no such file or directory")
        }
        if isDir.boolValue || path.lowercased().hasSuffix(".tsv") {
            if let captions { throw DatasetError.badSource(path: captions, reason: "--captions applies to a precomp .npy only (a directory of .npy files takes NAME.txt next to NAME.npy; a TSV has none)") }
            if let ids { throw DatasetError.badSource(path: ids, reason: "--ids applies to a precomp .npy only (directory sources use file names, TSV sources their image_id column)") }
            if isDir.boolValue { return Opened(source: try NPYDirectoryFeatureSource(directory: path), kind: .npyDirectory, notes: []) }
            return Opened(source: try TSVFeatureSource(path: path), kind: .tsv, notes: [])
        }
        guard path.lowercased().hasSuffix(".npy") else {
            throw DatasetError.badSource(path: path, reason: "not a feature source: expected a precomp .npy, a directory of per-image .npy files, or a .tsv")
        }
        var caps = captions
        var notes: [String] = []
        let name = (path as NSString).lastPathComponent
        if caps == nil && autoCaptions && name.hasSuffix("_ims.npy") {
            let sibling = ((path as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent(String(name.dropLast("_ims.npy".count)) + "_caps.txt")
            if FileManager.default.fileExists(atPath: sibling) {
                caps = sibling
                notes.append("captions: \(sibling) (found next to the features; --no-captions to leave them out)")
            }
        }
        return Opened(source: try PrecompFeatureSource(imagesPath: path, captionsPath: caps, idsPath: ids), kind: .precomp, notes: notes)
    }
}
