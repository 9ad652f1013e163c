import Foundation

/// The original's precomp layout (DESIGN §2): a folder holding `{split}_ims.npy` and
/// `{split}_caps.txt`, reached as `data_path/data_name` (the original's root + dataset name) or given
/// as the folder itself.
public enum PrecompLayout {
    /// The folder of the split files. With a `dataName`, `dataPath/dataName` when it is a folder;
    /// otherwise `dataPath` itself if it is that folder (its name is `dataName`, or it holds split
    /// files); anything else is an error naming the folder asked for and the `*_precomp` folders
    /// that do exist, so that a typo in `--data_name` never falls back silently.
    public static func folder(dataPath: String, dataName: String?) throws -> String {
        guard let dataName, !dataName.isEmpty else { return dataPath }
        let fm = FileManager.default
        let nested = (dataPath as NSString).appendingPathComponent(dataName)
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: nested, isDirectory: &isDir), isDir.boolValue { return nested }
        let standardized = (dataPath as NSString).standardizingPath
        if (standardized as NSString).lastPathComponent == dataName || holdsSplitFiles(dataPath) { return dataPath }
        throw DatasetError.missingFolder(path: nested, dataName: dataName, available: precompFolders(under: dataPath))
    }

    /// The `{split}_ims.npy` path of a split.
    public static func imagesPath(folder: String, split: String) -> String {
        (folder as NSString).appendingPathComponent("\(split)_ims.npy")
    }

    /// The `{split}_caps.txt` path of a split.
    public static func captionsPath(folder: String, split: String) -> String {
        (folder as NSString).appendingPathComponent("\(split)_caps.txt")
    }

    /// Captions per image row: 1 (one row per caption) or 5 (one row per image), or nil when the
    /// counts fit neither.
    public static func captionsPerRow(images: Int, captions: Int) -> Int? {
        if images == captions { return 1 }
        if captions % 5 == 0 && captions / 5 == images { return 5 }  // images * 5 may overflow
        return nil
    }

    static func holdsSplitFiles(_ folder: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.contains { $0.hasSuffix("_ims.npy") || $0.hasSuffix("_caps.txt") }
    }

    static func precompFolders(under path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix("_precomp") }.sorted()
    }
}
