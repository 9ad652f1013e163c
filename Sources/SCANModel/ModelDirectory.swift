import Foundation

/// A model directory: `config.json` (the original's option names), `model.safetensors` (the
/// original's state-dict names) and `vocab.json` (the original's vocabulary layout).
public struct ModelDirectory: Sendable {
    public let path: String
    public var configPath: String { path + "/config.json" }
    public var weightsPath: String { path + "/model.safetensors" }
    public var vocabularyPath: String { path + "/vocab.json" }

    public init(path: String) { self.path = path }

    /// Loads the model and its vocabulary, checking that they agree.
    public func load() throws -> (model: SCAN, vocabulary: Vocabulary) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw ModelError.missingFile(path: path)
        }
        for p in [configPath, weightsPath, vocabularyPath] where !FileManager.default.fileExists(atPath: p) {
            throw ModelError.missingFile(path: p)
        }
        let config = try ModelConfig.load(path: configPath)
        let model = try SCAN(config: config, safetensors: SafetensorsFile(path: weightsPath))
        let vocab = try Vocabulary(contentsOf: vocabularyPath)
        if vocab.count != config.vocabSize {
            throw ModelError.invalidOption(file: vocabularyPath, field: "vocabulary size",
                                           reason: "\(vocab.count) words, but the model's vocab_size is \(config.vocabSize)")
        }
        return (model, vocab)
    }

    /// Writes a model directory atomically (a temporary sibling renamed into place).
    public static func save(config: ModelConfig, parameters: [String: Tensor], vocabulary: Vocabulary,
                            to path: String, metadata: [String: String] = [:]) throws {
        let fm = FileManager.default
        let tmp = path + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        var cfg = config
        cfg.extra["format"] = .string("scan-swift-model")
        cfg.extra["format_version"] = .number(1)
        try cfg.write(to: tmp + "/config.json")
        var file = SafetensorsFile(path: tmp + "/model.safetensors", metadata: metadata.merging(["format": "scan-swift-model"]) { a, _ in a })
        for (name, t) in parameters { file.entries[name] = .float32(t) }
        try file.write(to: tmp + "/model.safetensors")
        try vocabulary.write(to: tmp + "/vocab.json")
        if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
        try fm.moveItem(atPath: tmp, toPath: path)
    }

    /// A fingerprint of the weights and configuration (FNV-1a 64 over the files' bytes), so that an
    /// index can tell whether it was built by this model.
    public func fingerprint() throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for p in [weightsPath, configPath, vocabularyPath] {
            try MappedFile(path: p).withBytes { bytes in
                for b in bytes {
                    h ^= UInt64(b)
                    h = h &* 0x0000_0100_0000_01B3
                }
            }
        }
        return String(format: "%016llx", h)
    }
}
