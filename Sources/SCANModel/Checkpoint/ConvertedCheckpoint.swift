import Foundation

/// An original checkpoint with its vocabulary, ready to use as a model: loaded in memory for the
/// tools' `--model CHECKPOINT`, or written as a model directory (`scan-model convert`). The
/// directory is the one `Tools/convert_checkpoint.py` writes: model.safetensors byte for byte,
/// config.json equal, vocab.json a copy of the vocabulary file.
public struct ConvertedCheckpoint: Sendable {
    public let checkpointPath: String
    public let conversion: CheckpointConversion
    public let vocabularyPath: String
    public let vocabulary: Vocabulary
    public let vocabularyBytes: [UInt8]

    /// Reads and converts `path`; the vocabulary as `CheckpointVocabulary.locate` finds it.
    public init(path: String, vocabulary: String? = nil, dataPath: String? = nil, dataName: String? = nil) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CheckpointError.notACheckpoint(file: path, reason: "no such checkpoint file")
        }
        guard !isDir.boolValue else { throw CheckpointError.notACheckpoint(file: path, reason: "a folder, not a checkpoint file") }
        let checkpoint = try OriginalCheckpoint(path: path)
        conversion = try CheckpointConversion(checkpoint)
        checkpointPath = path
        vocabularyPath = try CheckpointVocabulary.locate(checkpoint: path, vocabulary: vocabulary, options: checkpoint.options,
                                                         dataPath: dataPath, dataName: dataName)
        let vocab = try Vocabulary(contentsOf: vocabularyPath)
        guard vocab.count == conversion.vocabSize else {
            throw CheckpointError.inconsistent(file: vocabularyPath, field: "vocabulary size",
                                               reason: "\(vocabularyPath) has \(vocab.count) words but txt_enc.embed.weight in \(path) has \(conversion.vocabSize) rows: this is not the vocabulary the model was trained with")
        }
        self.vocabulary = vocab
        vocabularyBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: vocabularyPath)))
    }

    /// The model and vocabulary, as `ModelDirectory.load()` gives them for the converted directory.
    public func load() throws -> (model: SCAN, vocabulary: Vocabulary) {
        let config = try conversion.modelConfig(file: checkpointPath)
        let model = try SCAN(config: config, safetensors: conversion.safetensorsFile(path: checkpointPath))
        return (model, vocabulary)
    }

    /// The files of the model directory, by name.
    public var files: [(String, [UInt8])] {
        [("config.json", conversion.configJSON), ("model.safetensors", conversion.safetensors), ("vocab.json", vocabularyBytes)]
    }

    /// Writes the model directory: into a temporary sibling renamed into place, so a half-written
    /// directory never appears. An existing non-empty `out` is replaced only with `force`.
    public func write(to out: String, force: Bool = false) throws {
        let fm = FileManager.default
        let out = (out as NSString).standardizingPath
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: out, isDirectory: &isDir)
        if exists && !isDir.boolValue { throw CheckpointError.cannotWrite(path: out, reason: "exists and is not a folder") }
        let nonEmpty = exists && !((try? fm.contentsOfDirectory(atPath: out))?.isEmpty ?? true)
        if nonEmpty && !force { throw CheckpointError.cannotWrite(path: out, reason: "the folder exists and is not empty (use --force to replace it)") }
        let parent = (out as NSString).deletingLastPathComponent.isEmpty ? "." : (out as NSString).deletingLastPathComponent
        let base = (out as NSString).lastPathComponent
        let tmp = (parent as NSString).appendingPathComponent(".\(base).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: tmp, withIntermediateDirectories: false)
        } catch {
            throw CheckpointError.cannotWrite(path: parent, reason: "cannot create a folder there (\(error.localizedDescription))")
        }
        var old: String?
        do {
            for (name, bytes) in files {
                let p = (tmp as NSString).appendingPathComponent(name)
                guard fm.createFile(atPath: p, contents: Data(bytes)) else { throw CheckpointError.cannotWrite(path: p, reason: "cannot create the file") }
                let fd = open(p, O_RDONLY)
                if fd >= 0 { fsync(fd); close(fd) }
            }
            if exists {
                if nonEmpty {
                    let aside = (parent as NSString).appendingPathComponent(".\(base).old-\(getpid())")
                    try fm.moveItem(atPath: out, toPath: aside)
                    old = aside
                } else {
                    try fm.removeItem(atPath: out)
                }
            }
            try fm.moveItem(atPath: tmp, toPath: out)
        } catch {
            try? fm.removeItem(atPath: tmp)
            if let old, !fm.fileExists(atPath: out) { try? fm.moveItem(atPath: old, toPath: out) }
            if let e = error as? CheckpointError { throw e }
            throw CheckpointError.cannotWrite(path: out, reason: error.localizedDescription)
        }
        if let old { try? fm.removeItem(atPath: old) }
    }

    /// The summary line `convert_checkpoint.py` prints.
    public func summary(out: String) -> [String] {
        let config = Dictionary(conversion.config, uniquingKeysWith: { a, _ in a })
        let params = conversion.weights.reduce(0) { $0 + $1.values.count }
        func s(_ k: String) -> String { config[k].map { $0.pythonStr } ?? "?" }
        var lines = ["wrote \(out): \(conversion.weights.count) tensors, \(params) parameters, \(vocabulary.count) words; " +
                     "precomp_enc_type \(s("precomp_enc_type")), \(CheckpointConversion.truthy(config["bi_gru"] ?? .none) ? "bi-GRU" : "GRU"), " +
                     "cross_attn \(s("cross_attn")), agg_func \(s("agg_func"))"]
        if !conversion.filledDefaults.isEmpty {
            lines.append("options missing from the checkpoint, filled in: " +
                         conversion.filledDefaults.map { "\($0)=\(config[$0]?.pythonRepr ?? "?")" }.joined(separator: ", "))
        }
        return lines
    }
}
