import ArgumentParser
import Foundation
import SCANTraining

/// `scan-vocab`: builds the vocabulary as the original's vocab.py does (train + dev captions,
/// words with count >= threshold in first-seen order after the four specials).
@main
struct ScanVocab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-vocab",
        abstract: "Build a SCAN vocabulary (the original's vocab.py) from a precomp folder's train and dev captions.",
        discussion: """
        A different vocabulary already at the output path is kept unless --force is given: a model (or a converted \
        checkpoint) needs the vocabulary it was trained with. For a vocabulary of your own data, write it to its own \
        folder, e.g. --vocab_path vocab/mydata, and give that folder to scan-train --vocab_path.

        Example (your own data, its vocabulary in its own folder):
          scan-vocab --data_path data --data_name mydata_precomp \\
            --vocab_path vocab/mydata
        """)

    @Option(name: .customLong("data_path"), help: "The original's data root (or the folder holding the caption files).")
    var dataPath = "data"

    @Option(name: .customLong("data_name"), help: "Dataset name under --data_path (f30k_precomp, coco_precomp, ...).")
    var dataName = "f30k_precomp"

    @Option(name: .customLong("vocab_path"), help: "Folder the vocabulary is written to, as NAME_vocab.json.")
    var vocabPath = "vocab"

    @Option(help: "Keep words seen at least this often.")
    var threshold = VocabularyBuilder.defaultThreshold

    @Flag(name: .customLong("no_dev"), help: "Count train_caps.txt only (for data without a dev split; the original counts train and dev).")
    var noDev = false

    @Flag(help: "Replace a different vocabulary file at the output path.")
    var force = false

    func run() throws {
        let folder = try PrecompLayout.folder(dataPath: dataPath, dataName: dataName)
        var files = VocabularyBuilder.captionFiles(datasetDirectory: folder)
        if noDev { files = files.filter { !$0.hasSuffix("/dev_caps.txt") } }
        for f in files where !FileManager.default.fileExists(atPath: f) {
            let hint = f.hasSuffix("/dev_caps.txt")
                ? "the vocabulary is built from train_caps.txt and dev_caps.txt, as the original's; with only a train split, give --no_dev"
                : "the vocabulary is built from train_caps.txt and dev_caps.txt"
            throw DatasetError.missingFile(path: f, hint: hint)
        }
        let vocab = try VocabularyBuilder.build(captionFiles: files, threshold: threshold)
        let out = (vocabPath as NSString).appendingPathComponent("\(dataName)_vocab.json")
        if FileManager.default.fileExists(atPath: out) {
            let old = try? Vocabulary(contentsOf: out)
            if old?.idx2word == vocab.idx2word {
                print("Total vocabulary size: \(vocab.count)")
                print("\(out) already holds this vocabulary (unchanged)")
                return
            }
            if !force { throw VocabularyError.wouldReplace(path: out, existingWords: old?.count, newWords: vocab.count, builtFrom: files) }
        }
        try FileManager.default.createDirectory(atPath: vocabPath, withIntermediateDirectories: true)
        try vocab.write(to: out)
        print("Total vocabulary size: \(vocab.count)")
        print("Saved vocabulary file to \(out)")
    }
}
