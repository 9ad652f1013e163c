import Foundation

/// Where the vocabulary of an original checkpoint comes from: `--vocab FILE` (or the original's
/// `vocab/` folder, then `NAME_vocab.json` with NAME = the data name), else the original's layout
/// beside the data: `vocab/{data_name}_vocab.json` next to the data root, inside it, or at the
/// checkpoint's own `opt.vocab_path`. A miss names every place looked at.
public enum CheckpointVocabulary {
    /// The data name: `dataName` when given, else the checkpoint's `opt.data_name`.
    static func dataName(_ given: String?, options: [(String, OptionValue)]?) -> String? {
        if let given, !given.isEmpty { return given }
        if case let .string(s)? = options?.last(where: { $0.0 == "data_name" })?.1, !s.isEmpty { return s }
        return nil
    }

    /// The vocabulary file for `checkpoint`.
    public static func locate(checkpoint: String, vocabulary: String?, options: [(String, OptionValue)]?,
                              dataPath: String?, dataName givenName: String?) throws -> String {
        let fm = FileManager.default
        let name = dataName(givenName, options: options)
        if let vocabulary {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: vocabulary, isDirectory: &isDir) else {
                throw CheckpointError.vocabularyNotFound(checkpoint: checkpoint, looked: [vocabulary], hint: "--vocab names no file or folder")
            }
            guard isDir.boolValue else { return vocabulary }
            guard let name else {
                throw CheckpointError.vocabularyNotFound(checkpoint: checkpoint, looked: [vocabulary + "/NAME_vocab.json"],
                                                         hint: "--vocab is a folder and the checkpoint's opt has no data_name to pick NAME_vocab.json in it")
            }
            let file = (vocabulary as NSString).appendingPathComponent("\(name)_vocab.json")
            guard fm.fileExists(atPath: file) else {
                throw CheckpointError.vocabularyNotFound(checkpoint: checkpoint, looked: [file], hint: "from --vocab \(vocabulary) and data name '\(name)'")
            }
            return file
        }
        guard let name else {
            throw CheckpointError.vocabularyNotFound(checkpoint: checkpoint, looked: [],
                                                     hint: "the checkpoint's opt has no data_name; give --vocab FILE")
        }
        let file = "\(name)_vocab.json"
        var looked: [String] = []
        if let dataPath {
            // --data_path is the data root (data/ holding NAME/) or the split folder data/NAME itself.
            let trimmed = dataPath.hasSuffix("/") && dataPath.count > 1 ? String(dataPath.dropLast()) : dataPath
            let root = (trimmed as NSString).lastPathComponent == name ? (trimmed as NSString).deletingLastPathComponent : trimmed
            let rootOrDot = root.isEmpty ? "." : root
            looked.append(((rootOrDot as NSString).appendingPathComponent("../vocab") as NSString).appendingPathComponent(file))
            looked.append(((rootOrDot as NSString).appendingPathComponent("vocab") as NSString).appendingPathComponent(file))
        }
        if case let .string(vp)? = options?.last(where: { $0.0 == "vocab_path" })?.1, !vp.isEmpty {
            looked.append((vp as NSString).appendingPathComponent(file))
        }
        var seen = Set<String>()
        looked = looked.filter { seen.insert(($0 as NSString).standardizingPath).inserted }
        if let found = looked.first(where: { fm.fileExists(atPath: $0) }) { return found }
        throw CheckpointError.vocabularyNotFound(checkpoint: checkpoint, looked: looked.isEmpty ? [file] : looked,
                                                 hint: "give --vocab FILE (the vocabulary the model was trained with, e.g. vocab/\(file))")
    }
}
