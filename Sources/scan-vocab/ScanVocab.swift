import ArgumentParser
import Foundation
import SCANTraining

/// `scan-vocab`: builds the vocabulary as the original's vocab.py does (train + dev captions,
/// words with count >= threshold in first-seen order after the four specials).
@main
struct ScanVocab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-vocab",
        abstract: "Build a SCAN vocabulary (the original's vocab.py) from a precomp folder's train and dev captions.")

    @Option(name: .customLong("data_path"), help: "The original's data root (or the folder holding the caption files).")
    var dataPath = "data"

    @Option(name: .customLong("data_name"), help: "Dataset name under --data_path (f30k_precomp, coco_precomp, ...).")
    var dataName = "f30k_precomp"

    @Option(name: .customLong("vocab_path"), help: "Folder the vocabulary is written to, as NAME_vocab.json.")
    var vocabPath = "vocab"

    @Option(help: "Keep words seen at least this often.")
    var threshold = VocabularyBuilder.defaultThreshold

    func run() throws {
        let folder = try PrecompLayout.folder(dataPath: dataPath, dataName: dataName)
        let files = VocabularyBuilder.captionFiles(datasetDirectory: folder)
        for f in files where !FileManager.default.fileExists(atPath: f) {
            throw DatasetError.missingFile(path: f, hint: "the vocabulary is built from train_caps.txt and dev_caps.txt")
        }
        let vocab = try VocabularyBuilder.build(captionFiles: files, threshold: threshold)
        try FileManager.default.createDirectory(atPath: vocabPath, withIntermediateDirectories: true)
        let out = (vocabPath as NSString).appendingPathComponent("\(dataName)_vocab.json")
        try vocab.write(to: out)
        print("Total vocabulary size: \(vocab.count)")
        print("Saved vocabulary file to \(out)")
    }
}
