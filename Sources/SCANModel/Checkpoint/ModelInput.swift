import Foundation

/// What the tools' `--model` accepts: a model directory, or an original checkpoint file
/// (`model_best.pth.tar`) whose vocabulary comes from `--vocab` or the original's layout.
public enum ModelInput {
    /// True when `path` is a file (a checkpoint) rather than a model directory.
    public static func isCheckpoint(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    /// The model and vocabulary of a directory or a checkpoint; `warn` gets the conversion's warnings.
    public static func load(_ path: String, vocabulary: String? = nil, dataPath: String? = nil, dataName: String? = nil,
                            warn: (String) -> Void = { _ in }) throws -> (model: SCAN, vocabulary: Vocabulary) {
        guard isCheckpoint(path) else {
            if let vocabulary { warn("warning: --vocab \(vocabulary) is ignored: \(path) is a model directory with its own vocab.json") }
            return try ModelDirectory(path: path).load()
        }
        let converted = try ConvertedCheckpoint(path: path, vocabulary: vocabulary, dataPath: dataPath, dataName: dataName)
        converted.conversion.warnings.forEach(warn)
        return try converted.load()
    }

    /// A model directory for `path`: the directory itself, or the checkpoint converted into a new
    /// folder under `scratch` (the caller removes it). For tools that copy or fingerprint the files.
    public static func directory(_ path: String, vocabulary: String? = nil, dataPath: String? = nil, dataName: String? = nil,
                                 scratch: String, warn: (String) -> Void = { _ in }) throws -> String {
        guard isCheckpoint(path) else {
            if let vocabulary { warn("warning: --vocab \(vocabulary) is ignored: \(path) is a model directory with its own vocab.json") }
            return path
        }
        let converted = try ConvertedCheckpoint(path: path, vocabulary: vocabulary, dataPath: dataPath, dataName: dataName)
        converted.conversion.warnings.forEach(warn)
        // Named after the checkpoint (model_best.pth.tar -> model_best): the index records the name.
        var name = (path as NSString).lastPathComponent
        for suffix in [".tar", ".pth", ".pt"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        let dir = (scratch as NSString).appendingPathComponent(name.isEmpty || name.hasPrefix(".") ? "model" : name)
        try converted.write(to: dir)
        return dir
    }
}
