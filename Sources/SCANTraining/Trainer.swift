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
    /// Where the run's lines go (epochs, losses, validation); the tool passes stderr. A library does
    /// not print: nil sends them nowhere.
    public var log: (@Sendable (String) -> Void)?
    /// Stop after this many iterations in total (for smoke runs); nil runs every epoch. A run that
    /// stops here validates and saves a checkpoint as at the end of an epoch (resumable mid-epoch).
    public var maxIterations: Int?
    /// What validation runs on (dev by default, as the original).
    public var validation = ValidationChoice.dev
    public init() {}
}

/// What a finished (or stopped) run reports.
public struct TrainingSummary: Sendable {
    public var losses: [Double]
    public var epochsDone: Int
    public var iterations: Int
    /// The best validation rsum so far (the one of model_best); 0 without validation.
    public var bestRsum: Double
    public var rsums: [Double]
    /// Checkpoints this run wrote (directories), in order.
    public var checkpoints: [String] = []
    /// The run stopped at `maxIterations` inside an epoch (and saved there).
    public var stoppedAtMaxIterations = false
    /// Whether the run validated (false with `ValidationChoice.none`).
    public var validated = true
}

/// The original's training loop: Adam with clipping and the step schedule, captions shuffled each
/// epoch and each batch sorted by length, validation on dev after each epoch (and every val_step
/// iterations), a checkpoint per epoch and `model_best` by rsum, resumable to the same losses.
public final class Trainer {
    public let options: TrainingOptions
    let train: PrecompSplit
    /// The split validation reads images from (dev, or train for a held-out slice); nil without validation.
    let validationSplit: PrecompSplit?
    /// The validation captions (5 per image) and the image rows of the validation images.
    let validationCaptions: [String]
    let validationRows: [Int]
    /// Train captions 0..<trainCaptionCount are trained on (the rest are held out for validation).
    let trainCaptionCount: Int
    let vocabulary: Vocabulary
    let trainIDs: [[Int]]
    let vocabularyPath: String

    public init(options: TrainingOptions) throws {
        self.options = options
        let folder = try PrecompLayout.folder(dataPath: options.dataPath, dataName: options.dataName)
        train = try PrecompSplit(folder: folder, split: "train")
        switch options.validation {
        case .dev:
            let dev: PrecompSplit
            do { dev = try PrecompSplit(folder: folder, split: "dev") } catch let DatasetError.missingFile(path, _) {
                throw DatasetError.missingFile(path: path, hint: "training validates on the dev split (dev_ims.npy and dev_caps.txt) after every epoch; "
                    + "with only a train split, hold out train images for validation with --val_train_images N, or skip validation with --no_val")
            }
            validationSplit = dev
            validationCaptions = dev.captions
            validationRows = dev.evaluationImageRows
            trainCaptionCount = train.captions.count
        case let .trainSlice(n):
            let held = 5 * n
            guard n >= 1, train.captions.count % 5 == 0, held < train.captions.count else {
                throw DatasetError.badValidationSlice(file: train.captionsPath, images: n, trainImages: train.captions.count / 5)
            }
            let kept = train.captions.count - held
            let t = train
            trainCaptionCount = kept
            validationSplit = t
            validationCaptions = Array(t.captions[kept...])
            validationRows = stride(from: kept, to: t.captions.count, by: 5).map { t.imageRow(forCaption: $0) }
        case .none:
            validationSplit = nil
            validationCaptions = []
            validationRows = []
            trainCaptionCount = train.captions.count
        }
        vocabularyPath = Self.vocabularyFile(options.vocabPath, dataName: options.dataName)
        vocabulary = try Vocabulary(contentsOf: vocabularyPath)
        var config = options.config
        config.vocabSize = vocabulary.count
        try train.validate(imgDim: config.imgDim)
        if options.validation == .dev { try validationSplit?.validate(imgDim: config.imgDim) }
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
        if !options.quiet { options.log?(s) }
    }

    /// rsum on dev (the first 5000 captions), or on the held-out train slice, with the current parameters;
    /// nil without validation.
    func validate(_ parameters: ParameterSet<Float>) throws -> EvaluationReport? {
        guard let split = validationSplit else { return nil }
        let model = try SCAN(config: config, parameters: parameters.tensors())
        let e = Evaluator(model: model, vocabulary: vocabulary)
        let images = try e.encodeImages(split, rows: validationRows, quiet: true, validate: false)
        let captions = try e.encodeCaptions(validationCaptions, quiet: true)
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
        let sampler = CaptionSampler(lengths: trainIDs[0..<trainCaptionCount].map(\.count), batchSize: config.batchSize, seed: state.seed)
        let per = train.regionsPerImage * train.featureDim
        var summary = TrainingSummary(losses: [], epochsDone: state.epoch, iterations: state.iterations, bestRsum: state.bestRsum, rsums: [])
        summary.validated = validationSplit != nil
        let t0 = ProgressReporter.now()
        var itersSinceSave = 0
        epochs: for epoch in state.epoch..<config.numEpochs {
            let lr = LearningRateSchedule.learningRate(config: config, epoch: epoch)
            let batches = sampler.batches(epoch: epoch)
            let progress = options.quiet ? nil : ProgressReporter(label: "epoch \(epoch)", total: batches.count, unit: "batches")
            var stoppedAt: Int?
            for b in state.batchInEpoch..<batches.count {
                if let maxIt = options.maxIterations, state.iterations >= maxIt { stoppedAt = b; break }
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
                itersSinceSave += 1
                guard result.loss.isFinite else {
                    throw TrainingError.nonFiniteLoss(iteration: state.iterations, epoch: epoch, lastCheckpoint: lastCheckpoint)
                }
                summary.losses.append(result.loss)
                progress?.update(b + 1)
                if options.logStep > 0 && state.iterations % options.logStep == 0 {
                    log(["iteration": state.iterations, "epoch": epoch, "loss": result.loss, "lr": lr,
                         "grad_norm": result.gradientNorm, "seconds": ProgressReporter.now() - t0])
                }
                if options.valStep > 0 && state.iterations % options.valStep == 0, let r = try validate(parameters) {
                    log(["iteration": state.iterations, "epoch": epoch, "rsum": r.rsum, "lr": lr, "seconds": ProgressReporter.now() - t0])
                }
            }
            progress?.finish()
            // Stopped at --max_iters: save like an epoch end unless nothing was trained since the last save.
            if stoppedAt != nil && itersSinceSave == 0 { break epochs }
            itersSinceSave = 0
            let report = try validate(parameters)
            let rsum = report?.rsum
            if let rsum { summary.rsums.append(rsum) }
            // Without validation every checkpoint is the best one so far.
            let isBest = rsum.map { $0 > state.bestRsum } ?? true
            if let rsum { state.bestRsum = max(rsum, state.bestRsum) }
            if let b = stoppedAt {
                state.batchInEpoch = b
            } else {
                state.epoch = epoch + 1
                state.batchInEpoch = 0
            }
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
            summary.checkpoints.append(path)
            var record: [String: Any] = ["iteration": state.iterations, "epoch": epoch, "lr": lr, "seconds": ProgressReporter.now() - t0]
            if let report {
                record["rsum"] = report.rsum; record["best_rsum"] = state.bestRsum
                record["i2t"] = report.i2t.values; record["t2i"] = report.t2i.values
            }
            if stoppedAt != nil { record["stopped_at_max_iters"] = true }
            log(record)
            let what = stoppedAt.map { "epoch \(epoch) stopped at --max_iters after batch \($0)" } ?? "epoch \(epoch)"
            let score = rsum.map { String(format: "rsum %.1f (best %.1f)", $0, state.bestRsum) } ?? "not validated"
            note("\(what): \(score), saved \(name)\(isBest ? " and model_best" : "")")
            if stoppedAt != nil {
                summary.stoppedAtMaxIterations = true
                break epochs
            }
            summary.epochsDone = epoch + 1
        }
        summary.iterations = state.iterations
        summary.bestRsum = state.bestRsum
        return summary
    }
}
