import ArgumentParser
import Foundation
import SCANCommandLine
import SCANModel

/// `scan-model`: model files. `convert` turns an original checkpoint into a model directory
/// without PyTorch (the same directory `Tools/convert_checkpoint.py` writes).
@main
struct ScanModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-model",
        abstract: "Model files: convert an original SCAN checkpoint (model_best.pth.tar) into a model directory.",
        subcommands: [Convert.self])

    static func main() { runWithFastBLAS() }
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert an original checkpoint (either torch serialisation) into a model directory: model.safetensors, config.json, vocab.json.",
        discussion: """
        The checkpoint is read by a restricted unpickler that runs nothing: only the globals torch \
        checkpoints use are accepted, anything else is refused by name. Options that old checkpoints \
        lack are filled with the original train.py's defaults and listed in config.json's filled_defaults.

        Example: scan-model convert runs/f30k_scan/model_best.pth.tar --vocab vocab/f30k_precomp_vocab.json --out Models/f30k_t2i
        """)

    @Argument(help: "The original checkpoint, e.g. runs/f30k_scan/model_best.pth.tar.") var checkpoint: String
    @Option(help: ArgumentHelp("The vocabulary the model was trained with: vocab/NAME_vocab.json, or the vocab/ folder (NAME is the checkpoint's opt.data_name).", valueName: "file"))
    var vocab: String
    @Option(help: ArgumentHelp("The model directory to create.", valueName: "dir")) var out: String
    @Flag(help: "Replace --out if it exists and is not empty.") var force = false

    func validate() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: checkpoint, isDirectory: &isDir) else {
            throw ValidationError("\(checkpoint): no such checkpoint file")
        }
        guard !isDir.boolValue else { throw ValidationError("\(checkpoint): a folder, not a checkpoint file") }
        guard FileManager.default.fileExists(atPath: vocab) else { throw ValidationError("\(vocab): no such vocabulary file") }
        guard !out.isEmpty else { throw ValidationError("--out must name a folder") }
    }

    func run() throws {
        let converted = try ConvertedCheckpoint(path: checkpoint, vocabulary: vocab)
        for w in converted.conversion.warnings { FileHandle.standardError.write(Data((w + "\n").utf8)) }
        try converted.write(to: out, force: force)
        let absolute = out.hasPrefix("/") ? out : FileManager.default.currentDirectoryPath + "/" + out
        for line in converted.summary(out: (absolute as NSString).standardizingPath) { print(line) }
    }
}
