import SCANTraining

/// A SCAN model with random weights (the original's initialisation rules, `ParameterInitializer`),
/// saved as a model directory; for benchmarks at paper size where only the cost matters.
public enum RandomModel {
    /// Writes a model directory with `config`'s sizes and a vocabulary of `config.vocabSize` words
    /// (`words` first, then "w0", "w1", ...). With `prefilterDim`, adds a random projection prefilter
    /// (same cost as a fitted one).
    public static func write(to path: String, config: ModelConfig, words: [String] = [], prefilterDim: Int? = nil, seed: UInt64 = 1) throws {
        var vocabWords = words
        var seen = Set(words)
        var i = 0
        while vocabWords.count + 4 < config.vocabSize {
            let w = "w\(i)"
            i += 1
            if seen.insert(w).inserted { vocabWords.append(w) }
        }
        let vocab = try Vocabulary(words: Array(vocabWords.prefix(config.vocabSize - 4)))
        var c = config
        c.vocabSize = vocab.count
        let params = ParameterInitializer.initialize(config: c, seed: seed).tensors()
        try ModelDirectory.save(config: c, parameters: params, vocabulary: vocab, to: path)
        if let p = prefilterDim {
            var rng = SplitMix64(seed: seed ^ 0x5EED_0F_F11E)
            let d = config.embedSize
            let s = (3 / Float(d)).squareRoot()
            let a = Tensor(shape: [p, d], data: (0..<(p * d)).map { _ in rng.uniform(-s, s) })
            let b = Tensor(shape: [p, d], data: (0..<(p * d)).map { _ in rng.uniform(-s, s) })
            try Prefilter(imageProjection: a, textProjection: b, metadata: ["kind": "random projection (benchmark only)"]).save(modelDirectory: path)
        }
    }
}
