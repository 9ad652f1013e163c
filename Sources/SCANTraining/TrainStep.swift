import SCANModel

/// One square training batch: image i pairs with caption i.
public struct TrainingBatch: Sendable {
    /// (n x R x img_dim) precomputed region features.
    public var images: Tensor
    /// n captions as token ids (`[<start>] + words + [<end>]`), normally sorted by length descending
    /// as the original's `collate_fn` does (the step does not depend on it).
    public var captions: [[Int]]

    public init(images: Tensor, captions: [[Int]]) {
        self.images = images
        self.captions = captions
    }

    /// Region offsets of the images (every image has R regions).
    var regionOffsets: [Int] {
        (0...images.shape[0]).map { $0 * images.shape[1] }
    }
}

/// What one training step reports.
public struct TrainStepResult: Sendable {
    /// The contrastive loss of the batch before the update.
    public var loss: Double
    /// Total L2 norm of all gradients before clipping.
    public var gradientNorm: Double
    /// The clipping factor applied (1 when the norm was within grad_clip or clipping is off).
    public var clipCoefficient: Double
    /// The learning rate used.
    public var learningRate: Double
    /// Pairs with a non-zero score gradient (see `LossAndGradients.activePairs`).
    public var activePairs: Int
    public var timings: StepTimings
}

/// One step of the original's `SCAN.train_emb`: forward, `ContrastiveLoss`, backward,
/// `clip_grad_norm(all params, grad_clip)` (when grad_clip > 0), `Adam.step()`.
public enum TrainStep {
    /// Updates `parameters` and `optimizer` in place. `learningRate` defaults to the configuration's
    /// (the trainer passes the scheduled one, see `LearningRateSchedule`).
    public static func run(parameters: inout ParameterSet<Float>, batch: TrainingBatch, config: ModelConfig,
                           optimizer: inout Adam, learningRate: Double? = nil) throws -> TrainStepResult {
        _ = AllocatorTuning.applied
        guard batch.images.rank == 3, batch.images.shape[0] == batch.captions.count else {
            throw ModelError.invalidOption(file: "<batch>", field: "images",
                                           reason: "expected (n x regions x img_dim) features for \(batch.captions.count) captions, found shape \(batch.images.shape)")
        }
        guard batch.images.shape[2] == config.imgDim else {
            throw ModelError.featureDimension(source: "batch", expected: config.imgDim, found: batch.images.shape[2])
        }
        let out = try SCANBackprop.lossAndGradients(config: config, parameters: parameters, features: batch.images.data,
                                                    regionOffsets: batch.regionOffsets, captions: batch.captions)
        var clock = Stopwatch()
        let lr = learningRate ?? config.learningRate
        // clip_grad_norm then Adam; the clipping factor is applied inside Adam's pass.
        let norm = PhaseProfiler.measure("optimiser: gradient norm") { out.gradients.l2Norm }
        let coef = config.gradClip > 0 ? GradientClipping.coefficient(norm: norm, maxNorm: config.gradClip) : 1
        PhaseProfiler.measure("optimiser: Adam (with clipping)") {
            optimizer.update(parameters: &parameters, gradients: out.gradients, learningRate: lr, gradientScale: Float(coef))
        }
        var timings = out.timings
        timings.optimizer = clock.lap()
        return TrainStepResult(loss: out.loss, gradientNorm: norm, clipCoefficient: coef,
                               learningRate: lr, activePairs: out.activePairs, timings: timings)
    }

    /// The same step on named tensors (the original state-dict names); converts in and out, so
    /// a training loop should keep a `ParameterSet` instead.
    public static func run(parameters: inout [String: Tensor], batch: TrainingBatch, config: ModelConfig,
                           optimizer: inout Adam, learningRate: Double? = nil) throws -> TrainStepResult {
        var set = try ParameterSet<Float>(config: config, tensors: parameters)
        let result = try run(parameters: &set, batch: batch, config: config, optimizer: &optimizer, learningRate: learningRate)
        parameters = set.tensors()
        return result
    }
}
