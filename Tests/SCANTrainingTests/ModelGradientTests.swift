import SCANModel
import SCANTraining
import XCTest

/// Finite-difference checks (Double) of the whole model: loss -> every parameter, on tiny shapes and
/// configurations the reference fixtures lack (l1 norms, i2t + weight_norm, uni-GRU + Max, a caption
/// of length 2, an image with 1 region, ragged region counts).
final class ModelGradientTests: XCTestCase {
    struct Setup {
        var name: String
        var configure: (inout ModelConfig) -> Void
        /// Regions per image.
        var regions: [Int]
    }

    func baseConfig() -> ModelConfig {
        var c = ModelConfig()
        c.vocabSize = 7; c.wordDim = 3; c.embedSize = 4; c.imgDim = 5
        return c
    }

    let captions = [[1, 4, 5, 3, 2], [1, 2], [1, 6, 4, 2]]

    func check(_ s: Setup, seed: UInt64) throws {
        var config = baseConfig()
        s.configure(&config)
        let params = ParameterInitializer.initialize(config: config, seed: seed).converted(to: Double.self)
        var p = params
        // Larger weights than the init so that every path carries a visible gradient.
        for name in p.layout.names where name != "img_enc.fc.weight_g" {
            p[name] = p[name].map { $0 * 3 }
        }
        var offsets = [0]
        for r in s.regions { offsets.append(offsets.last! + r) }
        let features = FiniteDifference.values(offsets.last! * config.imgDim, seed: seed + 1, 0, 1).map { $0 < 0.3 ? 0 : $0 }
        let out = try SCANBackprop.lossAndGradients(config: config, parameters: p, features: features,
                                                    regionOffsets: offsets, captions: captions)
        XCTAssertGreaterThan(out.loss, 0, "\(s.name): the loss should be positive for a meaningful check")
        let numeric = FiniteDifference.gradient(p.data, h: 1e-6) { x in
            let q = ParameterSet<Double>(layout: p.layout, data: x)
            return (try? SCANBackprop.lossAndGradients(config: config, parameters: q, features: features,
                                                       regionOffsets: offsets, captions: captions).loss) ?? .nan
        }
        var worst = 0.0
        for name in p.layout.names {
            let r = p.layout.range(name)
            let ratio = FiniteDifference.assertClose(Array(out.gradients.data[r]), Array(numeric[r]), "\(s.name): \(name)", rtol: 1e-5)
            worst = max(worst, ratio)
        }
        print("FD \(s.name): loss \(out.loss), worst deviation \(worst) of the gradient scale")
    }

    func testWholeModelAgainstFiniteDifferences() throws {
        let setups: [Setup] = [
            Setup(name: "t2i clipped_l1norm LSE bi-GRU sum", configure: { c in
                c.crossAttn = .t2i; c.rawFeatureNorm = .clippedL1norm; c.aggFunc = .logSumExp; c.biGRU = true
            }, regions: [3, 1, 2]),
            Setup(name: "i2t l1norm Mean uni-GRU weight_norm sum", configure: { c in
                c.crossAttn = .i2t; c.rawFeatureNorm = .l1norm; c.aggFunc = .mean; c.precompEncType = .weightNorm
                c.lambdaSoftmax = 4
            }, regions: [3, 3, 3]),
            Setup(name: "i2t clipped_l2norm LSE bi-GRU weight_norm max_violation", configure: { c in
                c.crossAttn = .i2t; c.rawFeatureNorm = .clippedL2norm; c.biGRU = true; c.precompEncType = .weightNorm
                c.maxViolation = true; c.lambdaSoftmax = 4; c.lambdaLSE = 5; c.margin = 0.5
            }, regions: [2, 1, 3]),
            Setup(name: "t2i softmax Max uni-GRU max_violation no_imgnorm", configure: { c in
                c.crossAttn = .t2i; c.rawFeatureNorm = .softmax; c.aggFunc = .max; c.maxViolation = true
                c.noImgnorm = true; c.margin = 0.5
            }, regions: [3, 3, 3]),
            Setup(name: "i2t no_norm Sum bi-GRU no_txtnorm (one region per image)", configure: { c in
                c.crossAttn = .i2t; c.rawFeatureNorm = .noNorm; c.aggFunc = .sum; c.biGRU = true; c.noTxtnorm = true
                c.lambdaSoftmax = 4
            }, regions: [1, 1, 1]),
            Setup(name: "t2i clipped Mean bi-GRU no_imgnorm no_txtnorm weight_norm", configure: { c in
                c.crossAttn = .t2i; c.rawFeatureNorm = .clipped; c.aggFunc = .mean; c.biGRU = true
                c.noImgnorm = true; c.noTxtnorm = true; c.precompEncType = .weightNorm
            }, regions: [2, 3, 1]),
            Setup(name: "i2t l2norm Max uni-GRU sum", configure: { c in
                c.crossAttn = .i2t; c.rawFeatureNorm = .l2norm; c.aggFunc = .max; c.lambdaSoftmax = 4
            }, regions: [3, 2, 3]),
        ]
        for (k, s) in setups.enumerated() { try check(s, seed: 100 + UInt64(k)) }
    }
}
