import Foundation
import SCANIndex

/// Where indexes live: `--index DIR`, or `--name NAME` under the default folder `Indexes/`.
public enum IndexLocation {
    /// The default folder of named indexes (relative to the working directory).
    public static let defaultFolder = "Indexes"
    /// The model copy inside an index directory.
    public static func modelDirectory(ofIndex index: String) -> String { (index as NSString).appendingPathComponent("model") }

    /// The index directory for the command-line options: `index` wins, then `name` (under `folder`);
    /// with neither, the only index under `folder` (an error when there are none or several).
    public static func resolve(index: String?, name: String?, folder: String = defaultFolder) throws -> String {
        if let index { return (index as NSString).standardizingPath }
        if let name {
            guard !name.isEmpty, !name.contains("/") else { throw SearchError.invalidArgument("--name must be a plain name (no '/'), got '\(name)'") }
            return ((folder as NSString).appendingPathComponent(name) as NSString).standardizingPath
        }
        let found = existingIndexes(in: folder)
        guard found.count == 1 else { throw SearchError.noIndexChosen(folder: folder, found: found) }
        return ((folder as NSString).appendingPathComponent(found[0]) as NSString).standardizingPath
    }

    /// Names of the subdirectories of `folder` that hold an LMDB index.
    public static func existingIndexes(in folder: String) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { fm.fileExists(atPath: (folder as NSString).appendingPathComponent($0) + "/data.mdb") }.sorted()
    }

    /// Throws `SearchError.noIndex` unless `path` holds an index's LMDB files.
    public static func requireIndex(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SearchError.noIndex(path: path, reason: "the directory does not exist")
        }
        guard isDir.boolValue else { throw SearchError.noIndex(path: path, reason: "not a directory") }
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw SearchError.noIndex(path: path, reason: "no data.mdb in the directory")
        }
    }
}
