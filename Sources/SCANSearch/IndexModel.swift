import Foundation
import SCANCore
import SCANIndex
import SCANModel

/// A model directory loaded for indexing or search: the SCAN model, its vocabulary, the prefilter
/// (the directory's fitted `prefilter.safetensors`, else the plain mean) and their fingerprints.
public struct IndexModel: Sendable {
    public let directory: String
    public let model: SCAN
    public let vocabulary: Vocabulary
    public let prefilter: Prefilter
    /// `ModelDirectory.fingerprint()`: weights, config and vocabulary.
    public let fingerprint: String
    /// FNV-1a 64 of `prefilter.safetensors`; nil for the plain mean.
    public let prefilterFingerprint: String?

    /// The files a model copy holds (the prefilter only when present).
    public static let requiredFiles = ["config.json", "model.safetensors", "vocab.json"]

    public var config: ModelConfig { model.config }
    public var name: String { (directory as NSString).lastPathComponent }
    public var manifestPrefilterKind: IndexManifest.PrefilterKind { prefilter.kind == .projection ? .projection : .mean }

    public init(directory: String) throws {
        let dir = ModelDirectory(path: directory)
        let (m, v) = try dir.load()
        self.directory = directory
        model = m
        vocabulary = v
        fingerprint = try dir.fingerprint()
        if let p = try Prefilter.load(modelDirectory: directory, embedSize: m.config.embedSize) {
            prefilter = p
            prefilterFingerprint = try Self.fileFingerprint((directory as NSString).appendingPathComponent(Prefilter.fileName))
        } else {
            prefilter = Prefilter(plainMeanOf: m.config.embedSize)
            prefilterFingerprint = nil
        }
    }

    /// FNV-1a 64 of a file's bytes, as 16 hex digits (the scheme of `ModelDirectory.fingerprint`).
    public static func fileFingerprint(_ path: String) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        try MappedFile(path: path).withBytes { bytes in
            for b in bytes {
                h ^= UInt64(b)
                h = h &* 0x0000_0100_0000_01B3
            }
        }
        return String(format: "%016llx", h)
    }

    /// A warning for indexes whose prefilter is the plain mean, nil for a fitted one.
    public var prefilterWarning: String? {
        guard prefilter.kind == .mean else { return nil }
        return "warning: \(directory) has no \(Prefilter.fileName): the prefilter is the plain mean of the region embeddings, " +
            "so retention will be poor (the right image often falls outside the candidates SCAN re-ranks); fit one with " +
            "`scan-prefilter fit` and rebuild the index, or search with a larger --candidates or --exact"
    }

    /// Copies the model's files into `destination` atomically (a temporary sibling renamed into place).
    public func copy(to destination: String) throws {
        let fm = FileManager.default
        let parent = (destination as NSString).deletingLastPathComponent
        let tmp = (parent as NSString).appendingPathComponent(".model.tmp-\(getpid())")
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var files = Self.requiredFiles
        if prefilter.kind == .projection { files.append(Prefilter.fileName) }
        do {
            for f in files {
                try fm.copyItem(atPath: (directory as NSString).appendingPathComponent(f), toPath: (tmp as NSString).appendingPathComponent(f))
            }
            // The copy must be the model we loaded (the source directory may have changed meanwhile).
            let copied = try ModelDirectory(path: tmp).fingerprint()
            guard copied == fingerprint else {
                throw SearchError.missingModelCopy(index: parent, reason: "\(directory) changed while it was copied (fingerprint \(copied), loaded \(fingerprint))")
            }
            if let pf = prefilterFingerprint {
                let c = try Self.fileFingerprint((tmp as NSString).appendingPathComponent(Prefilter.fileName))
                guard c == pf else {
                    throw SearchError.missingModelCopy(index: parent, reason: "\(Prefilter.fileName) changed while it was copied")
                }
            }
            fsyncDirectory(tmp)
            try fm.moveItem(atPath: tmp, toPath: destination)
            fsyncDirectory(parent)
        } catch {
            try? fm.removeItem(atPath: tmp)
            throw error
        }
    }

    /// Removes temporary copies left by killed processes.
    static func removeStaleCopies(in index: String) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: index)) ?? [] where name.hasPrefix(".model.tmp-") {
            try? fm.removeItem(atPath: (index as NSString).appendingPathComponent(name))
        }
    }

    private func fsyncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    /// Loads an index's model copy and checks it against the manifest: the model fingerprint and
    /// the prefilter (kind, dimension, fingerprint).
    public static func loadCopy(ofIndex index: String, manifest: IndexManifest) throws -> IndexModel {
        let dir = IndexLocation.modelDirectory(ofIndex: index)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw SearchError.missingModelCopy(index: index, reason: "\(dir) does not exist")
        }
        for f in requiredFiles where !FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(f)) {
            throw SearchError.missingModelCopy(index: index, reason: "\(dir)/\(f) is missing")
        }
        // Compare fingerprints before parsing, so that a replaced model is named as such.
        let fp = try ModelDirectory(path: dir).fingerprint()
        guard fp == manifest.modelFingerprint else {
            throw SearchError.modelMismatch(index: index, manifestFingerprint: manifest.modelFingerprint, copyFingerprint: fp)
        }
        let m = try IndexModel(directory: dir)
        try m.checkPrefilter(against: manifest, index: index)
        guard m.config.embedSize == manifest.embedDim, m.config.imgDim == manifest.imgDim else {
            throw SearchError.missingModelCopy(index: index, reason: "model dims embed \(m.config.embedSize), img \(m.config.imgDim); manifest \(manifest.embedDim), \(manifest.imgDim)")
        }
        return m
    }

    func checkPrefilter(against manifest: IndexManifest, index: String) throws {
        guard manifestPrefilterKind == manifest.prefilterKind else {
            throw SearchError.prefilterMismatch(index: index, reason: "the manifest records a '\(manifest.prefilterKind.rawValue)' prefilter, the model copy has '\(manifestPrefilterKind.rawValue)'")
        }
        guard prefilter.dim == manifest.prefilterDim else {
            throw SearchError.prefilterMismatch(index: index, reason: "dimension \(prefilter.dim) in the model copy, \(manifest.prefilterDim) in the manifest")
        }
        guard prefilterFingerprint == manifest.prefilterFingerprint else {
            throw SearchError.prefilterMismatch(index: index, reason: "fingerprint \(prefilterFingerprint ?? "none") in the model copy, \(manifest.prefilterFingerprint ?? "none") in the manifest")
        }
    }
}
