import Foundation
import SCANModel
import SCANTraining
import XCTest

/// Adam, clipping, the lr schedule, optimiser state round trips and the initialisation.
final class OptimizerTests: XCTestCase {
    let layout = ParameterLayout(names: ["a"], shapes: [[3]])

    func testAdamTwoStepsByHand() {
        var p = ParameterSet<Float>(layout: layout, data: [1.0, -2.0, 0.5])
        var adam = Adam(layout: layout)
        let lr = 0.01
        // Step 1: m = 0.1 g, v = 0.001 g^2; lr / (1 - 0.9) = 0.1; sqrt(v) / sqrt(0.001) = |g|.
        // p -= 0.1 * 0.1 g / (|g| + 1e-8): [1 - 0.01 * 0.1/(0.1 + 1e-8), -2 + 0.01 * 0.2/(0.2 + 1e-8), 0.5 (zero gradient)].
        adam.update(parameters: &p, gradients: ParameterSet(layout: layout, data: [0.1, -0.2, 0]), learningRate: lr)
        XCTAssertEqual(Double(p.data[0]), 1 - 0.01 * 0.1 / (0.1 + 1e-8), accuracy: 1e-7)
        XCTAssertEqual(Double(p.data[1]), -2 + 0.01 * 0.2 / (0.2 + 1e-8), accuracy: 1e-7)
        XCTAssertEqual(p.data[2], 0.5, "a zero gradient at step 1 leaves the element in place")
        XCTAssertEqual(adam.state.step, 1)
        // Step 2 with g = [0.3, 0, -0.1], written out with the torch >= 1.0 formula.
        let g1 = [0.1, -0.2, 0.0], g2 = [0.3, 0.0, -0.1]
        let p1 = p.data.map(Double.init)
        adam.update(parameters: &p, gradients: ParameterSet(layout: layout, data: g2.map(Float.init)), learningRate: lr)
        for k in 0..<3 {
            let m = 0.9 * (0.1 * g1[k]) + 0.1 * g2[k]
            let v = 0.999 * (0.001 * g1[k] * g1[k]) + 0.001 * g2[k] * g2[k]
            let expected = p1[k] - lr / (1 - 0.81) * m / (v.squareRoot() / (1 - 0.998001).squareRoot() + 1e-8)
            XCTAssertEqual(Double(p.data[k]), expected, accuracy: 2e-7, "element \(k) after step 2")
        }
        // The element with a zero gradient at step 2 still moves (dense update, its moments are non-zero).
        XCTAssertNotEqual(Double(p.data[1]), p1[1])
    }

    /// The eight-lane loop and the scalar tail give what the formula gives in Float, element by
    /// element, including the folded clipping factor.
    func testAdamVectorLanesMatchScalarFormula() {
        let n = 21
        let l = ParameterLayout(names: ["w"], shapes: [[n]])
        var p = ParameterSet<Float>(layout: l, data: FiniteDifference.values(n, seed: 30).map(Float.init))
        var adam = Adam(layout: l)
        var ref = p.data.map(Double.init)
        var m = [Double](repeating: 0, count: n), v = m
        for step in 1...3 {
            let g = FiniteDifference.values(n, seed: 30 + UInt64(step)).map { Float($0 * 0.01) }
            let scale: Float = step == 2 ? 0.5 : 1
            adam.update(parameters: &p, gradients: ParameterSet(layout: l, data: g), learningRate: 1e-3, gradientScale: scale)
            for k in 0..<n {
                let gk = Double(g[k] * scale)
                m[k] = 0.9 * m[k] + 0.1 * gk
                v[k] = 0.999 * v[k] + 0.001 * gk * gk
                let t = Double(step)
                ref[k] -= 1e-3 / (1 - pow(0.9, t)) * m[k] / (v[k].squareRoot() / (1 - pow(0.999, t)).squareRoot() + 1e-8)
            }
        }
        for k in 0..<n { XCTAssertEqual(Double(p.data[k]), ref[k], accuracy: 1e-6, "element \(k)") }
    }

    func testClippingByHand() {
        let l = ParameterLayout(names: ["a", "b"], shapes: [[1], [1]])
        var g = ParameterSet<Float>(layout: l, data: [3, 4])
        let (norm, coef) = GradientClipping.clip(&g, maxNorm: 2)
        XCTAssertEqual(norm, 5, accuracy: 1e-12)
        XCTAssertEqual(coef, 2 / (5 + 1e-6), accuracy: 1e-12)
        XCTAssertEqual(Double(g.data[0]), 3 * 2 / (5 + 1e-6), accuracy: 1e-6)
        XCTAssertEqual(Double(g.data[1]), 4 * 2 / (5 + 1e-6), accuracy: 1e-6)
        var h = ParameterSet<Float>(layout: l, data: [3, 4])
        let (norm2, coef2) = GradientClipping.clip(&h, maxNorm: 10)
        XCTAssertEqual(norm2, 5, accuracy: 1e-12)
        XCTAssertEqual(coef2, 1)
        XCTAssertEqual(h.data, [3, 4], "coef >= 1 leaves the gradients alone")
        // The boundary: coef = 5 / (5 + 1e-6) < 1 still scales.
        var k = ParameterSet<Float>(layout: l, data: [3, 4])
        XCTAssertLessThan(GradientClipping.clip(&k, maxNorm: 5).coefficient, 1)
    }

    func testLearningRateSchedule() {
        XCTAssertEqual(LearningRateSchedule.learningRate(base: 2e-4, epoch: 0, lrUpdate: 15), 2e-4)
        XCTAssertEqual(LearningRateSchedule.learningRate(base: 2e-4, epoch: 14, lrUpdate: 15), 2e-4)
        XCTAssertEqual(LearningRateSchedule.learningRate(base: 2e-4, epoch: 15, lrUpdate: 15), 2e-5, accuracy: 1e-18)
        XCTAssertEqual(LearningRateSchedule.learningRate(base: 2e-4, epoch: 29, lrUpdate: 15), 2e-5, accuracy: 1e-18)
        XCTAssertEqual(LearningRateSchedule.learningRate(base: 2e-4, epoch: 30, lrUpdate: 15), 2e-6, accuracy: 1e-19)
    }

    func testAdamStateRoundTripResumesExactly() throws {
        var config = ModelConfig()
        config.vocabSize = 9; config.wordDim = 3; config.embedSize = 4; config.imgDim = 5; config.biGRU = true
        let l = ParameterLayout(config: config)
        var p = ParameterInitializer.initialize(config: config, seed: 3)
        var adam = Adam(layout: l)
        let batch = TrainingBatch(images: Tensor(shape: [2, 3, 5], data: (0..<30).map { Float(($0 * 7) % 5) / 5 }),
                                  captions: [[1, 4, 5, 2], [1, 8, 2]])
        _ = try TrainStep.run(parameters: &p, batch: batch, config: config, optimizer: &adam)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("adam-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try adam.state.write(to: path)
        var resumed = Adam(state: try AdamState(path: path, layout: l))
        XCTAssertEqual(resumed.state.step, 1)
        XCTAssertEqual(resumed.state.m.data, adam.state.m.data)
        XCTAssertEqual(resumed.state.v.data, adam.state.v.data)
        var p2 = p
        let r1 = try TrainStep.run(parameters: &p, batch: batch, config: config, optimizer: &adam)
        let r2 = try TrainStep.run(parameters: &p2, batch: batch, config: config, optimizer: &resumed)
        XCTAssertEqual(r1.loss, r2.loss)
        XCTAssertEqual(p.data, p2.data, "a resumed optimiser continues bit for bit")
    }

    func testNamedTensorStepEqualsParameterSetStep() throws {
        var config = ModelConfig()
        config.vocabSize = 9; config.wordDim = 3; config.embedSize = 4; config.imgDim = 5
        config.precompEncType = .weightNorm
        let p0 = ParameterInitializer.initialize(config: config, seed: 5)
        var named = p0.tensors()
        var set = p0
        var a1 = Adam(layout: p0.layout), a2 = Adam(layout: p0.layout)
        let batch = TrainingBatch(images: Tensor(shape: [2, 2, 5], data: (0..<20).map { Float($0 % 3) }),
                                  captions: [[1, 4, 5, 2], [1, 2]])
        let r1 = try TrainStep.run(parameters: &named, batch: batch, config: config, optimizer: &a1, learningRate: 1e-3)
        let r2 = try TrainStep.run(parameters: &set, batch: batch, config: config, optimizer: &a2, learningRate: 1e-3)
        XCTAssertEqual(r1.loss, r2.loss)
        XCTAssertEqual(named, set.tensors())
        XCTAssertEqual(named["img_enc.fc.weight_g"]?.shape, [])
    }

    func testInitialisationFollowsTheOriginal() {
        var config = ModelConfig()
        config.vocabSize = 50; config.wordDim = 6; config.embedSize = 16; config.imgDim = 20; config.biGRU = true
        let a = ParameterInitializer.initialize(config: config, seed: 42)
        let b = ParameterInitializer.initialize(config: config, seed: 42)
        let c = ParameterInitializer.initialize(config: config, seed: 43)
        XCTAssertEqual(a.data, b.data, "the same seed reproduces the parameters")
        XCTAssertNotEqual(a.data, c.data)
        func bound(_ name: String) -> Float { a[name].map { abs($0) }.max()! }
        let r = Float(6).squareRoot() / Float(20 + 16).squareRoot()
        XCTAssertLessThanOrEqual(bound("img_enc.fc.weight"), r)
        XCTAssertGreaterThan(bound("img_enc.fc.weight"), 0.9 * r)
        XCTAssertEqual(bound("img_enc.fc.bias"), 0)
        XCTAssertLessThanOrEqual(bound("txt_enc.embed.weight"), 0.1)
        XCTAssertGreaterThan(bound("txt_enc.embed.weight"), 0.09)
        for name in a.layout.names where name.hasPrefix("txt_enc.rnn.") {
            XCTAssertLessThanOrEqual(bound(name), 0.25, name)
            XCTAssertGreaterThan(bound(name), 0.2, name)
        }
        config.precompEncType = .weightNorm
        let w = ParameterInitializer.initialize(config: config, seed: 42)
        let v = w["img_enc.fc.weight_v"]
        let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(Double(w["img_enc.fc.weight_g"][0]), norm, accuracy: 1e-5 * norm, "g = ||V||_F at init")
        XCTAssertLessThanOrEqual(v.map { abs($0) }.max()!, 1 / Float(20).squareRoot())
        XCTAssertGreaterThan(w["img_enc.fc.bias"].map { abs($0) }.max()!, 0, "nn.Linear's default bias init")
    }
}

/// The multi-threaded parts (GRU directions side by side, per-image products on both cores)
/// must not race: the same step twice gives bit-identical gradients.
final class DeterminismTests: XCTestCase {
    func testRepeatedPassesAreBitIdentical() throws {
        var config = ModelConfig()
        config.vocabSize = 60; config.wordDim = 16; config.embedSize = 48; config.imgDim = 40; config.biGRU = true
        config.maxViolation = true
        let p = ParameterInitializer.initialize(config: config, seed: 11)
        var rng = Xoshiro256StarStar(seed: 12)
        let n = 12, r = 5
        let feats = (0..<(n * r * config.imgDim)).map { _ in max(0, rng.uniform(-0.5, 1)) }
        let captions = (0..<n).map { i in [1] + (0..<(3 + (i * 7) % 9)).map { _ in 3 + Int(rng.next() % 57) } + [2] }
            .sorted { $0.count > $1.count }
        let offsets = (0...n).map { $0 * r }
        for threshold in [0.0, 2.0] {
            let a = try SCANBackprop.lossAndGradients(config: config, parameters: p, features: feats, regionOffsets: offsets,
                                                      captions: captions, denseThreshold: threshold)
            let b = try SCANBackprop.lossAndGradients(config: config, parameters: p, features: feats, regionOffsets: offsets,
                                                      captions: captions, denseThreshold: threshold)
            XCTAssertEqual(a.loss, b.loss)
            XCTAssertEqual(a.gradients.data, b.gradients.data, "threshold \(threshold)")
            XCTAssertGreaterThan(a.gradients.l2Norm, 0)
        }
    }
}
