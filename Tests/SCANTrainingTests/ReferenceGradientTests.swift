import SCANTraining
import TestSupport
import XCTest

/// Loss and every parameter gradient against the original implementation, for every case of kind
/// model and train_step in SCAN_REFERENCE_DIR.
final class ReferenceGradientTests: XCTestCase {
    func testLossAndGradientsMatchReference() throws {
        let cases = try ReferenceFixtures.cases(kinds: ["model", "train_step"])
        XCTAssertFalse(cases.isEmpty, "no model/train_step cases in \(ReferenceFixtures.directory.path): zero cases is a failure")
        var report: [String] = []
        for c in cases {
            let config = try c.config()
            let params = try ParameterSet<Float>(config: config, tensors: c.parameters(), file: c.name)
            let images = try c.tensors.tensor("images")
            let captions = try c.captions()
            for dense in [0.0, 2.0] {
                // denseThreshold 0 forces the large-gemm path, 2 the per-pair path.
                let out = try SCANBackprop.lossAndGradients(
                    config: config, parameters: params, features: images.data,
                    regionOffsets: (0...images.shape[0]).map { $0 * images.shape[1] }, captions: captions,
                    denseThreshold: dense)
                let path = dense == 0 ? "dense" : "per-pair"
                let refLoss = try c.tensors.doubles("loss")[0]
                let rel = abs(out.loss - refLoss) / max(abs(refLoss), 1e-12)
                XCTAssertLessThanOrEqual(rel, 1e-5, "\(c.name) [\(path)]: loss \(out.loss) vs \(refLoss)")
                let refSims = try c.tensors.doubles("sims")
                XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(out.scores.map(Double.init), refSims),
                                         2e-5 * max(1, Tolerance.maxAbs(refSims)), "\(c.name) [\(path)]: sims")
                var worst = 0.0
                var worstName = ""
                for name in params.layout.names {
                    let ref = try c.tensors.doubles("grad." + name)
                    let ours = out.gradients[name].map(Double.init)
                    let scale = Tolerance.maxAbs(ref)
                    let dev = Tolerance.maxAbsDiff(ours, ref)
                    let ratio = scale > 0 ? dev / scale : dev
                    if ratio > worst { worst = ratio; worstName = name }
                    XCTAssertLessThanOrEqual(dev, 1e-3 * scale, "\(c.name) [\(path)]: grad.\(name) deviates by \(dev) (max abs \(scale))")
                }
                report.append("\(c.name) [\(path)]: loss rel \(String(format: "%.2e", rel)), worst grad \(worstName) \(String(format: "%.2e", worst)) of max abs")
            }
        }
        print(report.joined(separator: "\n"))
    }
}
