import Dispatch
import SCANModel

/// Seconds spent in the parts of one training step.
public struct StepTimings: Sendable, Equatable {
    /// Encoders, cross attention and loss.
    public var forward = 0.0
    /// Every backward pass down to the parameter gradients.
    public var backward = 0.0
    /// Gradient norm, clipping and the Adam update.
    public var optimizer = 0.0

    public init(forward: Double = 0, backward: Double = 0, optimizer: Double = 0) {
        self.forward = forward; self.backward = backward; self.optimizer = optimizer
    }

    public var total: Double { forward + backward + optimizer }
}

/// What one forward + backward pass over a batch gives.
public struct LossAndGradients<T: TrainScalar> {
    /// The contrastive loss (summed over the batch, as the original).
    public var loss: Double
    /// (n_img x n_cap) similarity scores.
    public var scores: [T]
    /// (regions x embed) image region embeddings, images one after the other.
    public var imageEmbeddings: [T]
    /// (tokens x embed) word embeddings, captions one after the other (no padding).
    public var captionEmbeddings: [T]
    /// dL/dparameter for every parameter (before clipping).
    public var gradients: ParameterSet<T>
    /// Image-caption pairs with a non-zero dL/dscore (the violating pairs and their diagonals):
    /// the attention backward works on these only.
    public var activePairs: Int
    public var timings: StepTimings
}

/// The whole SCAN model run forward to the contrastive loss and backward to every parameter,
/// generic over the arithmetic (Float for training, Double for gradient checks).
public enum SCANBackprop {
    /// Forward, loss and backward for one square batch: image i (regions `regionOffsets[i]..<[i+1]`
    /// of `features`, each img_dim long) pairs with caption i (token ids incl. <start>/<end>).
    /// Captions need not be sorted (the GRU batches them longest first itself).
    public static func lossAndGradients<T: TrainScalar>(
        config: ModelConfig, parameters: ParameterSet<T>,
        features: [T], regionOffsets: [Int], captions: [[Int]],
        denseThreshold: Double = 0.25
    ) throws -> LossAndGradients<T> {
        try validate(config: config, layout: parameters.layout, features: features, regionOffsets: regionOffsets, captions: captions)
        let d = config.embedSize, f = config.imgDim
        let rows = regionOffsets.last!
        let n = captions.count
        let attention = CrossAttention(config: config)
        var gradients = PhaseProfiler.measure("gradient buffer (zeros)") { ParameterSet<T>(zeros: parameters.layout) }
        var timings = StepTimings()
        var loss = 0.0
        var scores: [T] = []
        var imgOut: [T] = []
        var capOut: [T] = []
        var activePairs = 0
        var clock = Stopwatch()

        parameters.data.withUnsafeBufferPointer { pb in
        gradients.data.withUnsafeMutableBufferPointer { gb in
        features.withUnsafeBufferPointer { fb in
            let p = ParameterPointers(layout: parameters.layout, base: pb.baseAddress!)
            let g = GradientPointers(layout: parameters.layout, base: gb.baseAddress!)
            let feats = fb.baseAddress!
            // ---- forward ----
            var effective: (weight: [T], norm: T)? = nil
            if config.precompEncType == .weightNorm {
                effective = WeightNorm.forward(g: p("img_enc.fc.weight_g")[0], v: p("img_enc.fc.weight_v"), count: d * f)
            }
            let img: ImageEncoderCache<T> = {
                let run = { (w: UnsafePointer<T>) in
                    ImageEncoderLayer.forward(features: feats, rows: rows, imgDim: f, embed: d, weight: w,
                                              bias: p("img_enc.fc.bias"), normalize: !config.noImgnorm)
                }
                if let effective { return effective.weight.withUnsafeBufferPointer { run($0.baseAddress!) } }
                return run(p("img_enc.fc.weight"))
            }()
            let txt = PhaseProfiler.measure("text fwd (total)") { TextEncoderLayer.forward(captions: captions, config: config, parameters: p) }
            let att = img.out.withUnsafeBufferPointer { r in
                txt.out.withUnsafeBufferPointer { w in
                    CrossAttentionLayer.forward(regions: r.baseAddress!, regionOffsets: regionOffsets,
                                                words: w.baseAddress!, wordOffsets: txt.schedule.offsets,
                                                dim: d, attention: attention)
                }
            }
            let (l, dScores) = PhaseProfiler.measure("loss") { ContrastiveLoss.forwardBackward(scores: att.scores, count: n, margin: config.margin,
                                                               maxViolation: config.maxViolation) }
            loss = l
            activePairs = dScores.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            scores = att.scores
            imgOut = img.out
            capOut = txt.out
            timings.forward = clock.lap()

            // ---- backward ----
            var dRegions = [T](repeating: 0, count: rows * d)
            var dWords = [T](repeating: 0, count: txt.schedule.tokens * d)
            img.out.withUnsafeBufferPointer { r in
                txt.out.withUnsafeBufferPointer { w in
                    dRegions.withUnsafeMutableBufferPointer { dr in
                        dWords.withUnsafeMutableBufferPointer { dw in
                            CrossAttentionLayer.backward(att, regions: r.baseAddress!, words: w.baseAddress!, attention: attention,
                                                         dScores: dScores, dRegions: dr.baseAddress!, dWords: dw.baseAddress!,
                                                         denseThreshold: denseThreshold)
                        }
                    }
                }
            }
            PhaseProfiler.measure("text bwd (total)") {
                TextEncoderLayer.backward(txt, config: config, dOut: dWords, parameters: p, gradients: g)
            }
            dRegions.withUnsafeBufferPointer { dr in
                if let effective {
                    var dW = [T](repeating: 0, count: d * f)
                    dW.withUnsafeMutableBufferPointer { dwb in
                        ImageEncoderLayer.backward(img, features: feats, imgDim: f, embed: d, dOut: dr.baseAddress!,
                                                   dWeight: dwb.baseAddress!, dBias: g("img_enc.fc.bias"))
                        WeightNorm.backward(dWeight: dwb.baseAddress!, g: p("img_enc.fc.weight_g")[0], v: p("img_enc.fc.weight_v"),
                                            norm: effective.norm, count: d * f, dg: g("img_enc.fc.weight_g"), dv: g("img_enc.fc.weight_v"))
                    }
                } else {
                    ImageEncoderLayer.backward(img, features: feats, imgDim: f, embed: d, dOut: dr.baseAddress!,
                                               dWeight: g("img_enc.fc.weight"), dBias: g("img_enc.fc.bias"))
                }
            }
            timings.backward = clock.lap()
        }}}
        return LossAndGradients(loss: loss, scores: scores, imageEmbeddings: imgOut, captionEmbeddings: capOut,
                                gradients: gradients, activePairs: activePairs, timings: timings)
    }

    static func validate<T>(config: ModelConfig, layout: ParameterLayout, features: [T], regionOffsets: [Int],
                            captions: [[Int]]) throws {
        try config.validate(file: "<config>")
        guard layout == ParameterLayout(config: config) else {
            throw ModelError.invalidOption(file: "<parameters>", field: "layout", reason: "the parameters do not match the configuration")
        }
        let n = captions.count
        guard n > 0, regionOffsets.count == n + 1, regionOffsets.first == 0 else {
            throw ModelError.invalidOption(file: "<batch>", field: "images",
                                           reason: "a training batch needs as many images as captions (\(regionOffsets.count - 1) vs \(n))")
        }
        for i in 0..<n where regionOffsets[i + 1] <= regionOffsets[i] {
            throw ModelError.invalidOption(file: "<batch>", field: "images", reason: "image \(i) has no regions")
        }
        guard features.count == regionOffsets.last! * config.imgDim else {
            throw ModelError.featureDimension(source: "batch", expected: config.imgDim,
                                              found: regionOffsets.last! == 0 ? 0 : features.count / regionOffsets.last!)
        }
        for (i, c) in captions.enumerated() {
            if c.isEmpty { throw ModelError.invalidCaption(index: i, reason: "caption has zero tokens") }
            if let bad = c.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw ModelError.invalidCaption(index: i, reason: "token id \(bad) outside the vocabulary of \(config.vocabSize)")
            }
        }
    }
}
