import SCANTraining
import TestSupport
import XCTest

/// Whole training steps (forward, loss, backward, clipping, Adam) against the original's
/// `SCAN.train_emb`: one step for the train_step cases, three for the trajectory cases.
final class ReferenceTrainStepTests: XCTestCase {
    /// Largest |ours - reference| over all `after.<param>` tensors, checked against 1e-2 * lr.
    func checkAfter(_ c: ReferenceCase, _ params: ParameterSet<Float>, lr: Double) throws -> Double {
        var worst = 0.0
        for name in params.layout.names {
            let ref = try c.tensors.doubles("after." + name)
            let dev = Tolerance.maxAbsDiff(params[name].map(Double.init), ref)
            worst = max(worst, dev)
            XCTAssertLessThanOrEqual(dev, 1e-2 * lr, "\(c.name): after.\(name) deviates by \(dev)")
        }
        return worst
    }

    func testOneStepMatchesReference() throws {
        let cases = try ReferenceFixtures.cases(kinds: ["train_step"])
        XCTAssertFalse(cases.isEmpty, "no train_step cases in \(ReferenceFixtures.directory.path)")
        for c in cases {
            let config = try c.config()
            var params = try ParameterSet<Float>(config: config, tensors: c.parameters(), file: c.name)
            var adam = Adam(layout: params.layout)
            let batch = TrainingBatch(images: try c.tensors.tensor("images"), captions: try c.captions())
            let r = try TrainStep.run(parameters: &params, batch: batch, config: config, optimizer: &adam)
            let storedLoss = try c.tensors.doubles("loss")[0]
            let refLoss = c.json["train_loss"]?.number ?? storedLoss
            XCTAssertLessThanOrEqual(abs(r.loss - refLoss) / abs(refLoss), 1e-5, "\(c.name): loss")
            if let refNorm = c.json["grad_total_norm_before_clip"]?.number {
                XCTAssertLessThanOrEqual(abs(r.gradientNorm - refNorm) / refNorm, 1e-4, "\(c.name): grad norm \(r.gradientNorm) vs \(refNorm)")
            }
            if let refCoef = c.json["clip_coef"]?.number, refCoef < 1 {
                XCTAssertEqual(r.clipCoefficient, refCoef, accuracy: 1e-4 * refCoef, "\(c.name): clip coefficient")
            }
            let worst = try checkAfter(c, params, lr: config.learningRate)
            print("\(c.name): one step, loss \(r.loss), grad norm \(r.gradientNorm), after.* max dev \(worst) = \(worst / config.learningRate) x lr")
        }
    }

    func testTrajectoryMatchesReference() throws {
        let cases = try ReferenceFixtures.cases(kinds: ["trajectory"])
        XCTAssertFalse(cases.isEmpty, "no trajectory cases in \(ReferenceFixtures.directory.path)")
        for c in cases {
            let config = try c.config()
            var params = try ParameterSet<Float>(config: config, tensors: c.parameters(), file: c.name)
            var adam = Adam(layout: params.layout)
            let refLosses = try c.tensors.doubles("losses")
            let refNorms = try c.tensors.doubles("grad_norms")
            for k in 0..<refLosses.count {
                let batch = TrainingBatch(images: try c.tensors.tensor("images.s\(k)"), captions: try c.captions(suffix: ".s\(k)"))
                let r = try TrainStep.run(parameters: &params, batch: batch, config: config, optimizer: &adam)
                XCTAssertLessThanOrEqual(abs(r.loss - refLosses[k]) / abs(refLosses[k]), 1e-5, "\(c.name): loss of step \(k)")
                XCTAssertLessThanOrEqual(abs(r.gradientNorm - refNorms[k]) / refNorms[k], 1e-4, "\(c.name): grad norm of step \(k)")
                print("\(c.name) step \(k): loss \(r.loss) (ref \(refLosses[k])), grad norm \(r.gradientNorm) (ref \(refNorms[k]))")
            }
            XCTAssertEqual(adam.state.step, refLosses.count)
            let worst = try checkAfter(c, params, lr: config.learningRate)
            print("\(c.name): after \(refLosses.count) steps, after.* max dev \(worst) = \(worst / config.learningRate) x lr")
        }
    }
}
