import ArgumentParser
import SCANCommandLine
import Foundation
import SCANTraining

/// `scan-prefilter fit`: fits the search prefilter's projections to a model (stored in its directory).
@main
struct ScanPrefilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-prefilter",
        abstract: "Fit the mean-pooled search prefilter's projections to a SCAN model.",
        subcommands: [Fit.self])

    static func main() { runWithFastBLAS() }
}

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit the projections contrastively on a split's image-caption pairs (the model stays frozen).",
        discussion: "An existing prefilter.safetensors is kept unless --force is given.\n\nExample:\n  scan-prefilter fit --model models/f30k_t2i --data_path data/f30k_precomp \\\n    --split train")

    @Option(help: "Model directory; prefilter.safetensors is written into it.") var model: String
    @Option(name: .customLong("data_path"), help: "Folder with {split}_ims.npy and {split}_caps.txt (or the data root with --data_name).") var dataPath: String
    @Option(name: .customLong("data_name"), help: "Dataset name under --data_path.") var dataName: String?
    @Option(help: "Split to fit on.") var split = "train"
    @Option(help: "Optimisation steps.") var steps = 600
    @Option(name: .customLong("batch_size"), help: "Images per batch (one caption each).") var batchSize = 256
    @Option(help: "Output dimension of the projections.") var dim = 256
    @Option(help: "Use at most this many images of the split.") var limit: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Flag(help: "Replace an existing prefilter.safetensors (indexes built with it then refuse this model directory).") var force = false

    func validate() throws {
        if ModelInput.isCheckpoint(model) {
            throw ValidationError("--model \(model) is a checkpoint file, but the prefilter is written into a model directory: convert it first with `scan-model convert \(model) --vocab FILE --out DIR` and pass --model DIR")
        }
    }

    func run() throws {
        let existing = (model as NSString).appendingPathComponent("prefilter.safetensors")
        if !force && FileManager.default.fileExists(atPath: existing) { throw TrainingError.wouldReplacePrefilter(path: existing) }
        var fitter = PrefilterFitter()
        fitter.steps = steps; fitter.batchSize = batchSize; fitter.dim = dim; fitter.seed = seed
        let folder = try PrecompLayout.folder(dataPath: dataPath, dataName: dataName)
        let result = try fitter.fit(modelDirectory: model, folder: folder, split: split, limitImages: limit)
        let first = result.losses.prefix(10).reduce(0, +) / Float(max(1, min(10, result.losses.count)))
        let last = result.losses.suffix(10).reduce(0, +) / Float(max(1, min(10, result.losses.count)))
        print(String(format: "prefilter fitted: %d steps, loss %.4f -> %.4f, dim %d; written to %@/prefilter.safetensors",
                     steps, first, last, dim, model))
    }
}
