import SCANModel

/// The original's parameter initialisation, drawn from our seeded generator (so the values differ
/// from torch's, the distributions do not):
/// - `img_enc.fc.weight` U(-r, r), r = sqrt(6) / sqrt(img_dim + embed) (`EncoderImagePrecomp.init_weights`), bias 0;
/// - weight_norm: the wrapped `nn.Linear` keeps torch's default init, weight and bias U(-1/sqrt(img_dim), 1/sqrt(img_dim)),
///   then `weight_g` = ||weight_v||_F, `weight_v` = that weight;
/// - `txt_enc.embed.weight` U(-0.1, 0.1);
/// - every GRU weight and bias U(-1/sqrt(H), 1/sqrt(H)) (torch's RNN default).
/// Parameters are drawn in layout order from one xoshiro256** stream seeded with `seed`.
public enum ParameterInitializer {
    public static func initialize(config: ModelConfig, seed: UInt64) -> ParameterSet<Float> {
        let layout = ParameterLayout(config: config)
        var p = ParameterSet<Float>(zeros: layout)
        var rng = Xoshiro256StarStar(seed: seed)
        let fanIn = Float(config.imgDim), fanOut = Float(config.embedSize)
        let gruBound = 1 / Float(config.embedSize).squareRoot()
        for name in layout.names {
            let range = layout.range(name)
            var bound: Float
            switch name {
            case "img_enc.fc.weight": bound = Float(6).squareRoot() / (fanIn + fanOut).squareRoot()
            case "img_enc.fc.bias": bound = config.precompEncType == .weightNorm ? 1 / fanIn.squareRoot() : 0
            case "img_enc.fc.weight_v": bound = 1 / fanIn.squareRoot()
            case "img_enc.fc.weight_g": bound = 0  // set from weight_v below
            case "txt_enc.embed.weight": bound = 0.1
            default:
                precondition(name.hasPrefix("txt_enc.rnn."), "no initialisation rule for \(name)")
                bound = gruBound
            }
            if bound > 0 {
                for k in range { p.data[k] = rng.uniform(-bound, bound) }
            }
        }
        if config.precompEncType == .weightNorm {
            var ss = 0.0
            for k in layout.range("img_enc.fc.weight_v") { ss += Double(p.data[k]) * Double(p.data[k]) }
            p.data[layout.range("img_enc.fc.weight_g").lowerBound] = Float(ss.squareRoot())
        }
        return p
    }
}
