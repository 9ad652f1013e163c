import ArgumentParser
import SCANCommandLine
import Foundation
import SCANTraining

/// `scan-train`: the original train.py, with its flag names and defaults.
@main
struct ScanTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-train",
        abstract: "Train SCAN (any variant of the paper) on a precomp dataset, as the original train.py.",
        discussion: """
        Reads {train,dev}_ims.npy and {train,dev}_caps.txt from --data_path/--data_name and validates on dev \
        after every epoch, keeping model_best by rsum. With only a train split, give --val_train_images N \
        (the last N train images are held out and validated on) or --no_val (no validation; model_best is the \
        last checkpoint). A run stopped by --max_iters validates and saves like an epoch end; --resume continues it.

        Example (the README's):
          scan-train --data_path data --data_name f30k_precomp --vocab_path vocab \\
            --logger_name runs/f30k_scan/log --model_name runs/f30k_scan/checkpoint \\
            --max_violation --bi_gru --agg_func=Mean --cross_attn=t2i --lambda_softmax=9
        """)

    @Option(name: .customLong("data_path"), help: "Path to datasets.") var dataPath = "/srv/data/data"
    @Option(name: .customLong("data_name"), help: "{coco,f30k}_precomp") var dataName = "precomp"
    @Option(name: .customLong("vocab_path"), help: "Path to saved vocabulary json files (or the file itself).") var vocabPath = "./vocab/"
    @Option(help: "Rank loss margin.") var margin = 0.2
    @Option(name: .customLong("num_epochs"), help: "Number of training epochs.") var numEpochs = 30
    @Option(name: .customLong("batch_size"), help: "Size of a training mini-batch.") var batchSize = 128
    @Option(name: .customLong("word_dim"), help: "Dimensionality of the word embedding.") var wordDim = 300
    @Option(name: .customLong("embed_size"), help: "Dimensionality of the joint embedding.") var embedSize = 1024
    @Option(name: .customLong("grad_clip"), help: "Gradient clipping threshold.") var gradClip = 2.0
    @Option(name: .customLong("num_layers"), help: "Number of GRU layers (only 1 is supported).") var numLayers = 1
    @Option(name: .customLong("learning_rate"), help: "Initial learning rate.") var learningRate = 0.0002
    @Option(name: .customLong("lr_update"), help: "Number of epochs to update the learning rate.") var lrUpdate = 15
    @Option(help: "Number of data loader workers (accepted for compatibility; loading is memory-mapped).") var workers = 10
    @Option(name: .customLong("log_step"), help: "Number of steps to log a line of the training log.") var logStep = 10
    @Option(name: .customLong("val_step"), help: "Number of steps to run validation.") var valStep = 500
    @Option(name: .customLong("logger_name"), help: "Path to save the training log (train_log.jsonl).") var loggerName = "./runs/runX/log"
    @Option(name: .customLong("model_name"), help: "Path to save the checkpoints.") var modelName = "./runs/runX/checkpoint"
    @Option(help: "Path to a checkpoint directory, the --model_name folder, or a run folder (runs/NAME holding checkpoint/) to resume from.") var resume = ""
    @Flag(name: .customLong("max_violation"), help: "Use max instead of sum in the rank loss.") var maxViolation = false
    @Option(name: .customLong("img_dim"), help: "Dimensionality of the image embedding.") var imgDim = 2048
    @Flag(name: .customLong("no_imgnorm"), help: "Do not normalize the image embeddings.") var noImgnorm = false
    @Flag(name: .customLong("no_txtnorm"), help: "Do not normalize the text embeddings.") var noTxtnorm = false
    @Option(name: .customLong("raw_feature_norm"), help: "clipped_l2norm|l2norm|clipped_l1norm|l1norm|clipped|no_norm|softmax") var rawFeatureNorm = "clipped_l2norm"
    @Option(name: .customLong("agg_func"), help: "LogSumExp|Mean|Max|Sum") var aggFunc = "LogSumExp"
    @Option(name: .customLong("cross_attn"), help: "t2i|i2t") var crossAttn = "t2i"
    @Option(name: .customLong("precomp_enc_type"), help: "basic|weight_norm") var precompEncType = "basic"
    @Flag(name: .customLong("bi_gru"), help: "Use bidirectional GRU.") var biGRU = false
    @Option(name: .customLong("lambda_lse"), help: "LogSumExp temp.") var lambdaLSE = 6.0
    @Option(name: .customLong("lambda_softmax"), help: "Attention softmax temperature.") var lambdaSoftmax = 9.0
    @Option(help: "Random seed (initialisation and sampling): the same seed gives the same run.") var seed: UInt64 = 1
    @Option(name: .customLong("max_iters"), help: "Stop after this many iterations (smoke runs); validates and saves a checkpoint there.") var maxIters: Int?
    @Option(name: .customLong("val_train_images"), help: "Validate on the last N train images (held out of training) instead of dev: for data with only a train split.") var valTrainImages: Int?
    @Flag(name: .customLong("no_val"), help: "No validation (no dev split needed); model_best is the last checkpoint.") var noVal = false

    func validate() throws {
        if noVal && valTrainImages != nil { throw ValidationError("--no_val and --val_train_images exclude each other") }
        if let n = valTrainImages, n < 1 { throw ValidationError("--val_train_images must be at least 1") }
        if let m = maxIters, m < 1 { throw ValidationError("--max_iters must be at least 1") }
    }

    static func main() { runWithFastBLAS() }

    func run() throws {
        var json: [String: JSONValue] = [
            "margin": .number(margin), "num_epochs": .number(Double(numEpochs)), "batch_size": .number(Double(batchSize)),
            "word_dim": .number(Double(wordDim)), "embed_size": .number(Double(embedSize)), "grad_clip": .number(gradClip),
            "num_layers": .number(Double(numLayers)), "learning_rate": .number(learningRate), "lr_update": .number(Double(lrUpdate)),
            "max_violation": .bool(maxViolation), "img_dim": .number(Double(imgDim)), "no_imgnorm": .bool(noImgnorm),
            "no_txtnorm": .bool(noTxtnorm), "raw_feature_norm": .string(rawFeatureNorm), "agg_func": .string(aggFunc),
            "cross_attn": .string(crossAttn), "precomp_enc_type": .string(precompEncType), "bi_gru": .bool(biGRU),
            "lambda_lse": .number(lambdaLSE), "lambda_softmax": .number(lambdaSoftmax),
        ]
        // The rest of the original's opt travels with the checkpoint, as it did in the .pth.tar.
        for (k, v) in [("data_path", dataPath), ("data_name", dataName), ("vocab_path", vocabPath), ("logger_name", loggerName),
                       ("model_name", modelName), ("resume", resume)] { json[k] = .string(v) }
        json["workers"] = .number(Double(workers)); json["log_step"] = .number(Double(logStep)); json["val_step"] = .number(Double(valStep))
        var options = TrainingOptions()
        options.config = try ModelConfig(json: json, file: "command line")
        options.dataPath = dataPath; options.dataName = dataName; options.vocabPath = vocabPath
        options.loggerName = loggerName; options.modelName = modelName; options.logStep = logStep; options.valStep = valStep
        options.resume = resume; options.seed = seed; options.maxIterations = maxIters
        options.log = { warn($0) }
        options.validation = noVal ? .none : valTrainImages.map { .trainSlice(images: $0) } ?? .dev
        let trainer = try Trainer(options: options)
        let summary = try trainer.run()
        let stop = summary.stoppedAtMaxIterations ? " (stopped at --max_iters \(maxIters ?? 0), saved there)" : ""
        let best = summary.validated ? String(format: "best rsum %.1f", summary.bestRsum) : "not validated (--no_val)"
        let saved = summary.checkpoints.isEmpty ? "no checkpoint written by this run" : "checkpoints in \(modelName) (model_best, latest \((summary.checkpoints.last! as NSString).lastPathComponent))"
        print("trained \(summary.epochsDone) epochs, \(summary.iterations) iterations\(stop); \(best); \(saved)")
    }
}
