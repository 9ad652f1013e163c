import Foundation
import SCANModel

/// Adam exactly as torch >= 1.0 (the form the fixtures were made with): per element
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// with betas (0.9, 0.999), eps 1e-8, no weight decay, `t` counting from 1. Updates are dense: every
/// element moves every step, including embedding rows whose gradient is zero (their m, v decay).
/// (torch 0.3/0.4, which the original targeted, added eps before the bias correction; see the
/// fixtures' README.)
public struct Adam: Sendable {
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var eps = 1e-8
    public var state: AdamState

    public init(layout: ParameterLayout) {
        state = AdamState(layout: layout)
    }

    public init(state: AdamState) {
        self.state = state
    }

    /// One update of `parameters` with `gradients` at learning rate `lr`. `gradientScale` multiplies
    /// every gradient first (the clipping coefficient, folded in to save a pass over the gradients).
    public mutating func update(parameters: inout ParameterSet<Float>, gradients: ParameterSet<Float>, learningRate lr: Double,
                                gradientScale: Float = 1) {
        precondition(parameters.layout == state.m.layout && gradients.layout == state.m.layout,
                     "Adam: parameters, gradients and state have different layouts")
        state.step += 1
        let t = Double(state.step)
        let stepSize = Float(lr / (1 - pow(beta1, t)))
        let bc2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
        let b2 = Float(beta2), e = Float(eps)
        let oneMinusB1 = Float(1 - beta1), oneMinusB2 = Float(1 - beta2)
        let count = parameters.data.count
        parameters.data.withUnsafeMutableBufferPointer { pB in
        gradients.data.withUnsafeBufferPointer { gB in
        state.m.data.withUnsafeMutableBufferPointer { mB in
        state.v.data.withUnsafeMutableBufferPointer { vB in
            let p = pB.baseAddress!, g = gB.baseAddress!, m = mB.baseAddress!, v = vB.baseAddress!
            Parallel.forChunks(count, minChunk: 1 << 16) { range in
                // The same operations as torch, in the same order, eight lanes at a time:
                // exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
                // param.addcdiv_(exp_avg, exp_avg_sq.sqrt() / sqrt(bias_correction2) + eps, -lr / bias_correction1).
                typealias V = SIMD8<Float>
                var k = range.lowerBound
                let raw = { (ptr: UnsafeMutablePointer<Float>) in UnsafeMutableRawPointer(ptr) }
                while k + 8 <= range.upperBound {
                    let gk = UnsafeRawPointer(g + k).loadUnaligned(as: V.self) * gradientScale
                    let m0 = raw(m + k).loadUnaligned(as: V.self), v0 = raw(v + k).loadUnaligned(as: V.self)
                    let mk = m0 + oneMinusB1 * (gk - m0)
                    let vk = v0 * b2 + oneMinusB2 * gk * gk
                    raw(m + k).storeBytes(of: mk, as: V.self)
                    raw(v + k).storeBytes(of: vk, as: V.self)
                    let denom = vk.squareRoot() / bc2Sqrt + e
                    let pk = raw(p + k).loadUnaligned(as: V.self) - stepSize * (mk / denom)
                    raw(p + k).storeBytes(of: pk, as: V.self)
                    k += 8
                }
                while k < range.upperBound {
                    let gk = g[k] * gradientScale
                    let mk = m[k] + oneMinusB1 * (gk - m[k])
                    let vk = v[k] * b2 + oneMinusB2 * gk * gk
                    m[k] = mk
                    v[k] = vk
                    let denom = vk.squareRoot() / bc2Sqrt + e
                    p[k] -= stepSize * (mk / denom)
                    k += 1
                }
            }
        }}}}
    }
}

/// Adam's moments and step count, serialisable to safetensors so that a checkpoint can resume.
public struct AdamState: Sendable {
    /// Number of updates done (the next one is `step + 1`).
    public var step: Int
    /// First moment (exp_avg), same layout as the parameters.
    public var m: ParameterSet<Float>
    /// Second moment (exp_avg_sq).
    public var v: ParameterSet<Float>

    public init(layout: ParameterLayout) {
        step = 0
        m = ParameterSet(zeros: layout)
        v = ParameterSet(zeros: layout)
    }

    static let stepKey = "adam.step"
    static let mPrefix = "adam.exp_avg."
    static let vPrefix = "adam.exp_avg_sq."

    /// Tensors `adam.step` (int64 scalar), `adam.exp_avg.<param>` and `adam.exp_avg_sq.<param>`.
    public var safetensorsEntries: [String: SafetensorsEntry] {
        var out: [String: SafetensorsEntry] = [Self.stepKey: .int64([Int64(step)], shape: [])]
        for (name, t) in m.tensors() { out[Self.mPrefix + name] = .float32(t) }
        for (name, t) in v.tensors() { out[Self.vPrefix + name] = .float32(t) }
        return out
    }

    public func write(to path: String) throws {
        try SafetensorsFile(metadata: ["format": "scan-swift adam state", "betas": "0.9,0.999", "eps": "1e-08"],
                            entries: safetensorsEntries).write(to: path)
    }

    /// Reads the state written by `safetensorsEntries` for parameters of `layout`.
    public init(safetensors f: SafetensorsFile, layout: ParameterLayout) throws {
        let steps = try f.ints(Self.stepKey)
        guard steps.count == 1, steps[0] >= 0 else {
            throw FormatError.badHeader(file: f.path, reason: "\(Self.stepKey) must be one non-negative integer")
        }
        step = steps[0]
        var mt: [String: Tensor] = [:], vt: [String: Tensor] = [:]
        for name in layout.names {
            mt[name] = try f.tensor(Self.mPrefix + name)
            vt[name] = try f.tensor(Self.vPrefix + name)
        }
        m = try ParameterSet(layout: layout, tensors: mt, file: f.path)
        v = try ParameterSet(layout: layout, tensors: vt, file: f.path)
    }

    public init(path: String, layout: ParameterLayout) throws {
        try self.init(safetensors: SafetensorsFile(path: path), layout: layout)
    }
}

/// Clipping of the total L2 norm over all gradients, as torch's `clip_grad_norm_`:
/// coef = max_norm / (norm + 1e-6), applied when coef < 1.
public enum GradientClipping {
    /// The factor clipping would apply to gradients of total norm `norm` (1 when within `maxNorm`).
    public static func coefficient(norm: Double, maxNorm: Double) -> Double {
        let coef = maxNorm / (norm + 1e-6)
        return coef < 1 ? coef : 1
    }

    /// Scales `gradients` in place; returns the norm before clipping and the factor applied (1 if none).
    @discardableResult
    public static func clip(_ gradients: inout ParameterSet<Float>, maxNorm: Double) -> (norm: Double, coefficient: Double) {
        let norm = gradients.l2Norm
        let coef = maxNorm / (norm + 1e-6)
        guard coef < 1 else { return (norm, 1) }
        let c = Float(coef)
        gradients.data.withUnsafeMutableBufferPointer { g in
            let base = g.baseAddress!
            Parallel.forChunks(g.count, minChunk: 1 << 16) { range in
                for k in range { base[k] *= c }
            }
        }
        return (norm, coef)
    }
}

/// The original's step schedule: lr = learning_rate * 0.1^floor(epoch / lr_update).
public enum LearningRateSchedule {
    public static func learningRate(base: Double, epoch: Int, lrUpdate: Int) -> Double {
        guard lrUpdate > 0 else { return base }
        return base * pow(0.1, Double(epoch / lrUpdate))
    }

    public static func learningRate(config: ModelConfig, epoch: Int) -> Double {
        learningRate(base: config.learningRate, epoch: epoch, lrUpdate: config.lrUpdate)
    }
}
