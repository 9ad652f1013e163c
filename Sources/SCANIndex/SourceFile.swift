import Foundation

/// A feature source an index was given (a file or a directory), as the manifest remembers it: enough
/// to tell a resumed build of the same source from another source whose ids happen to collide.
///
/// The fingerprint hashes the size, the first and the last MiB of a file (or the names and sizes of a
/// directory's entries), so that it costs the same for a 9 GB `train_ims.npy` as for a small file,
/// and survives a copy or a move of the file (the path alone would not).
public struct SourceFile: Codable, Equatable, Sendable {
    /// The source's description as given (`FeatureSource.sourceDescription`, usually its path).
    public var path: String
    /// Bytes of the file, or of all the directory's entries together.
    public var size: Int
    /// 16 hex digits (XXH64).
    public var fingerprint: String

    public init(path: String, size: Int, fingerprint: String) {
        self.path = path; self.size = size; self.fingerprint = fingerprint
    }

    /// Whether `other` holds the same features (the path may differ).
    public func sameContent(as other: SourceFile) -> Bool { size == other.size && fingerprint == other.fingerprint }

    static let sampleBytes = 1 << 20

    /// Identifies the file or directory at `path`; a source that is not a file (a generated one)
    /// is identified by its description alone.
    public static func identify(path: String) throws -> SourceFile {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            return SourceFile(path: path, size: 0, fingerprint: String(format: "%016llx", XXH64.hash(Array(path.utf8))))
        }
        if isDir.boolValue {
            let names = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
            var listing: [UInt8] = []
            var total = 0
            for n in names {
                let size = ((try? fm.attributesOfItem(atPath: (path as NSString).appendingPathComponent(n)))?[.size] as? Int) ?? 0
                total += size
                listing += Array("\(n)\t\(size)\n".utf8)
            }
            return SourceFile(path: path, size: total, fingerprint: String(format: "%016llx", XXH64.hash(listing)))
        }
        guard let h = FileHandle(forReadingAtPath: path) else { throw IndexError.cannotOpen(file: path, reason: "not readable") }
        defer { try? h.close() }
        let size = Int(try h.seekToEnd())
        var sample = Array("\(size)\n".utf8)
        try h.seek(toOffset: 0)
        sample += [UInt8](try h.read(upToCount: sampleBytes) ?? Data())
        if size > sampleBytes {
            try h.seek(toOffset: UInt64(max(sampleBytes, size - sampleBytes)))
            sample += [UInt8](try h.read(upToCount: sampleBytes) ?? Data())
        }
        return SourceFile(path: path, size: size, fingerprint: String(format: "%016llx", XXH64.hash(sample)))
    }
}
