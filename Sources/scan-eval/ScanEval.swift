import ArgumentParser
import SCANCommandLine
import Foundation
import SCANTraining

/// `scan-eval`: the paper's exact evaluation (the original's evalrank), printing its lines.
@main
struct ScanEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-eval",
        abstract: "Evaluate a SCAN model with the paper's recall protocol on a precomp split (exact similarity matrix).")

    @Option(name: .customLong("model"), help: "Model directory (config.json, model.safetensors, vocab.json), or an original checkpoint (model_best.pth.tar).")
    var model: String

    @Option(help: ArgumentHelp("For a checkpoint --model: its vocabulary (default: vocab/{data_name}_vocab.json of the original layout, beside the data).", valueName: "file"))
    var vocab: String?

    @Option(name: .customLong("data_path"), help: "Folder holding {split}_ims.npy and {split}_caps.txt (or the original's data root with --data_name).")
    var dataPath: String

    @Option(name: .customLong("data_name"), help: "Dataset name under --data_path, e.g. f30k_precomp or coco_precomp.")
    var dataName: String?

    @Option(help: "Split: test, dev, or testall for COCO.")
    var split = "test"

    @Flag(help: "COCO 1K: five folds of 1000 images of testall's 5000, metrics averaged (on another number of images: five folds of a fifth each, said on stderr).")
    var fold5 = false

    @Option(help: "A second model directory or checkpoint; the two similarity matrices are averaged (the paper's ensembles).")
    var ensemble: String?

    @Option(help: "Write every metric and the per-query ranks to this JSON file.")
    var json: String?

    @Option(name: .customLong("save-sims"), help: "Write the similarity matrix to this .npy file.")
    var saveSims: String?

    @Option(help: "float32 (exact, default) or float64 (the original's arithmetic, for ranks decided by less than 1e-6).")
    var precision: ScorePrecision = .float32

    static func main() { runWithFastBLAS() }

    func run() throws {
        // The data folder first: a mistyped --data_name is reported before any model is loaded.
        let folder = try PrecompLayout.folder(dataPath: dataPath, dataName: dataName)
        var evaluators: [Evaluator] = []
        for dir in [model] + (ensemble.map { [$0] } ?? []) {
            let (m, v) = try ModelInput.load(dir, vocabulary: vocab, dataPath: dataPath, dataName: dataName) {
                FileHandle.standardError.write(Data(($0 + "\n").utf8))
            }
            evaluators.append(Evaluator(model: m, vocabulary: v))
        }
        var options = Evaluation.Options()
        options.log = { warn($0) }
        options.split = split
        options.fold5 = fold5
        options.precision = precision
        let outcome = try Evaluation.run(evaluators, folder: folder, options: options)
        for n in outcome.notes { FileHandle.standardError.write(Data("note: \(n)\n".utf8)) }
        for line in outcome.lines { print(line) }
        if let json {
            var j = outcome.json
            j["model"] = model; j["ensemble"] = ensemble as Any; j["split"] = split; j["precision"] = precision.rawValue
            let data = try JSONSerialization.data(withJSONObject: j, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
        if let saveSims {
            if options.precision == .float64 {
                try NPY.write(doubles: outcome.sims, shape: outcome.simsShape, to: saveSims)
            } else {
                try NPY.write(Tensor(shape: outcome.simsShape, data: outcome.sims.map(Float.init)), to: saveSims)
            }
        }
    }
}

extension ScorePrecision: ExpressibleByArgument {}
