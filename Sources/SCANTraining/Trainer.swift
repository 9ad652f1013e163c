import Foundation
import SCANModel

/// The original train.py's options that are not model hyper-parameters.
public struct TrainingOptions: Sendable {
    public var config = ModelConfig()
    public var dataPath = "data"
    public var dataName = "precomp"
    public var vocabPath = "vocab"
    public var loggerName = "runs/runX/log"
    public var modelName = "runs/runX/checkpoint"
    public var logStep = 10
    public var valStep = 500
    public var resume = ""
    public var seed: UInt64 = 1
    public var quiet = false
    /// Stop after this many iterations in total (for smoke runs); nil runs every epoch.
    public var maxIterations: Int?
    public init() {}
}

/// What a finished (or stopped) run reports.
public struct TrainingSummary: Sendable {
    public var losses: [Double]
    public var epochsDone: Int
    public var iterations: Int
    public var bestRsum: Double
    public var rsums: [Double]
}

/// The original's training loop: Adam with clipping and the step schedule, captions shuffled each
/// epoch and each batch sorted by length, validation on dev after each epoch (and every val_step
/// iterations), a checkpoint per epoch and `model_best` by rsum, resumable to the same losses.
public final class Trainer {
    public let options: TrainingOptions
    let train: PrecompSplit
    let dev: PrecompSplit
    let vocabulary: Vocabulary
    let trainIDs: [[Int]]
    let vocabularyPath: String

    public init(options: TrainingOptions) throws {
        self.options = options
        let folder = try PrecompLayout.folder(dataPath: options.dataPath, dataName: options.dataName)
        train = try PrecompSplit(folder: folder, split: "train")
        dev = try PrecompSplit(folder: folder, split: "dev")
        vocabularyPath = Self.vocabularyFile(options.vocabPath, dataName: options.dataName)
        vocabulary = try Vocabulary(contentsOf: vocabularyPath)
        var config = options.config
        config.vocabSize = vocabulary.count
        try train.validate(imgDim: config.imgDim)
        try dev.validate(imgDim: config.imgDim)
        trainIDs = try Evaluator.tokenize(train.captions, vocabulary: vocabulary)
        // A vocabulary built from other captions leaves almost every token unknown.
        let words = trainIDs.reduce(0) { $0 + $1.count - 2 }
        let unknown = trainIDs.reduce(0) { $0 + $1.filter { $0 == Vocabulary.unk }.count }
        if words > 0 && Double(unknown) / Double(words) > 0.5 {
            throw TrainingError.vocabularyMismatch(vocabulary: vocabularyPath, captions: train.captionsPath,
                                                   unknownFraction: Double(unknown) / Double(words))
        }
    }

    /// `--vocab_path` may be the vocabulary file itself or the folder holding NAME_vocab.json.
    static func vocabularyFile(_ path: String, dataName: String) -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return (path as NSString).appendingPathComponent("\(dataName)_vocab.json")
        }
        return path
    }

    var config: ModelConfig {
        var c = options.config
        c.vocabSize = vocabulary.count
        return c
    }

    /// Fields whose change makes a checkpoint another model (or another loss).
    static func differences(_ a: ModelConfig, _ b: ModelConfig) -> [String] {
        let ja = a.json, jb = b.json
        let keys = ["embed_size", "word_dim", "img_dim", "vocab_size", "num_layers", "bi_gru", "no_imgnorm", "no_txtnorm",
                    "precomp_enc_type", "raw_feature_norm", "agg_func", "cross_attn", "lambda_lse", "lambda_softmax",
                    "margin", "max_violation"]
        return keys.compactMap { k in ja[k] == jb[k] ? nil : "\(k): checkpoint \(ja[k]?.description ?? "-"), now \(jb[k]?.description ?? "-")" }
    }

    func log(_ record: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        let path = (options.loggerName as NSString).appendingPathComponent("train_log.jsonl")
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        if let h = FileHandle(forWritingAtPath: path) {
            h.seekToEndOfFile()
            h.write(data + Data("\n".utf8))
            h.closeFile()
        }
    }

    func note(_ s: String) {
        if !options.quiet { FileHandle.standardError.write(Data((s + "\n").utf8)) }
    }

    /// rsum on dev (the first 5000 captions) with the current parameters.
    func validate(_ parameters: ParameterSet<Float>) throws -> EvaluationReport {
        let model = try SCAN(config: config, parameters: parameters.tensors())
        let e = Evaluator(model: model, vocabulary: vocabulary)
        let images = try e.encodeImages(dev, rows: dev.evaluationImageRows, quiet: true, validate: false)
        let captions = try e.encodeCaptions(dev.captions, quiet: true)
        let sims = e.similarities(images: images, captions: captions, as: Float.self, quiet: true)
        return EvaluationReport(sims: sims, images: images.count, captions: captions.count)
    }

    public func run() throws -> TrainingSummary {
        let fm = FileManager.default
        try fm.createDirectory(atPath: options.modelName, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: options.loggerName, withIntermediateDirectories: true)
        let config = self.config
        var parameters: ParameterSet<Float>
        var optimizer: Adam
        var state: TrainerState
        var lastCheckpoint: String?
        if !options.resume.isEmpty {
            let loaded = try TrainingCheckpoint.load(options.resume)
            let diff = Self.differences(loaded.config, config)
            if !diff.isEmpty { throw TrainingError.resumeMismatch(checkpoint: options.resume, fields: diff) }
            parameters = loaded.parameters
            optimizer = Adam(state: loaded.optimizer)
            state = loaded.state
            lastCheckpoint = options.resume
            note("=> resumed from \(options.resume) (epoch \(state.epoch), Eiters \(state.iterations), best_rsum \(state.bestRsum))")
        } else {
            parameters = ParameterInitializer.initialize(config: config, seed: options.seed)
            optimizer = Adam(layout: parameters.layout)
            state = TrainerState(epoch: 0, iterations: 0, batchInEpoch: 0, bestRsum: 0, seed: options.seed, lastRsum: nil)
        }
        let sampler = CaptionSampler(lengths: trainIDs.map(\.count), batchSize: config.batchSize, seed: state.seed)
        let per = train.regionsPerImage * train.featureDim
        var summary = TrainingSummary(losses: [], epochsDone: state.epoch, iterations: state.iterations, bestRsum: state.bestRsum, rsums: [])
        let t0 = ProgressReporter.now()
        epochs: for epoch in state.epoch..<config.numEpochs {
            let lr = LearningRateSchedule.learningRate(config: config, epoch: epoch)
            let batches = sampler.batches(epoch: epoch)
            let progress = options.quiet ? nil : ProgressReporter(label: "epoch \(epoch)", total: batches.count, unit: "batches")
            for b in state.batchInEpoch..<batches.count {
                if let maxIt = options.maxIterations, state.iterations >= maxIt { break epochs }
                let idx = batches[b]
                // The original's loss needs two items at least (its squeeze crashes on one).
                if idx.count < 2 { continue }
                var features = [Float](repeating: 0, count: idx.count * per)
                features.withUnsafeMutableBufferPointer { f in
                    for (k, c) in idx.enumerated() {
                        train.images.copyFloats(offset: train.imageRow(forCaption: c) * per, count: per, into: f.baseAddress! + k * per)
                    }
                }
                let batch = TrainingBatch(images: Tensor(shape: [idx.count, train.regionsPerImage, train.featureDim], data: features),
                                          captions: idx.map { trainIDs[$0] })
                let result = try TrainStep.run(parameters: &parameters, batch: batch, config: config, optimizer: &optimizer, learningRate: lr)
                state.iterations += 1
                guard result.loss.isFinite else {
                    throw TrainingError.nonFiniteLoss(iteration: state.iterations, epoch: epoch, lastCheckpoint: lastCheckpoint)
                }
                summary.losses.append(result.loss)
                progress?.update(b + 1)
                if options.logStep > 0 && state.iterations % options.logStep == 0 {
                    log(["iteration": state.iterations, "epoch": epoch, "loss": result.loss, "lr": lr,
                         "grad_norm": result.gradientNorm, "seconds": ProgressReporter.now() - t0])
                }
                if options.valStep > 0 && state.iterations % options.valStep == 0 {
                    let r = try validate(parameters)
                    log(["iteration": state.iterations, "epoch": epoch, "rsum": r.rsum, "lr": lr, "seconds": ProgressReporter.now() - t0])
                }
            }
            progress?.finish()
            let report = try validate(parameters)
            let rsum = report.rsum
            summary.rsums.append(rsum)
            let isBest = rsum > state.bestRsum
            state.bestRsum = max(rsum, state.bestRsum)
            state.epoch = epoch + 1
            state.batchInEpoch = 0
            state.lastRsum = rsum
            let name = "checkpoint_\(epoch)"
            let path = (options.modelName as NSString).appendingPathComponent(name)
            try TrainingCheckpoint.save(to: path, config: config, parameters: parameters, vocabulary: vocabulary,
                                        optimizer: optimizer.state, state: state)
            try JSONSerialization.data(withJSONObject: ["checkpoint": name]).write(
                to: URL(fileURLWithPath: (options.modelName as NSString).appendingPathComponent("latest.json")), options: .atomic)
            if isBest {
                try TrainingCheckpoint.save(to: (options.modelName as NSString).appendingPathComponent("model_best"), config: config,
                                            parameters: parameters, vocabulary: vocabulary, optimizer: optimizer.state, state: state)
            }
            lastCheckpoint = path
            log(["iteration": state.iterations, "epoch": epoch, "rsum": rsum, "best_rsum": state.bestRsum, "lr": lr,
                 "seconds": ProgressReporter.now() - t0, "i2t": report.i2t.values, "t2i": report.t2i.values])
            note(String(format: "epoch %d: rsum %.1f (best %.1f)%@", epoch, rsum, state.bestRsum, isBest ? ", saved model_best" : ""))
            summary.epochsDone = epoch + 1
        }
        summary.iterations = state.iterations
        summary.bestRsum = state.bestRsum
        return summary
    }
}
