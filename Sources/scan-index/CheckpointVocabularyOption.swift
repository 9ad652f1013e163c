import ArgumentParser
import Foundation
import SCANSearch

/// `--vocab` for a checkpoint `--model`: the checkpoint is converted into a scratch model directory
/// for the command (the index keeps its own copy), removed afterwards.
struct CheckpointVocabularyOption: ParsableArguments {
    @Option(help: ArgumentHelp("For a checkpoint --model: its vocabulary (default: vocab/{data_name}_vocab.json of the original layout, beside the features' data folder).", valueName: "file"))
    var vocab: String?

    func withModelDirectory<T>(_ model: String?, features: String, _ body: (String?) throws -> T) throws -> T {
        guard let model, ModelInput.isCheckpoint(model) else { return try body(model) }
        let scratch = NSTemporaryDirectory() + "scan-index-model-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // The features of a precomp split lie in data/NAME/: the data root is its parent.
        let dataFolder = (features as NSString).deletingLastPathComponent
        let dir = try ModelInput.directory(model, vocabulary: vocab, dataPath: dataFolder.isEmpty ? "." : dataFolder, scratch: scratch) {
            FileHandle.standardError.write(Data(($0 + "\n").utf8))
        }
        return try body(dir)
    }
}
