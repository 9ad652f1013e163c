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
        let count = parameters.data.count
        parameters.data.withUnsafeMutableBufferPointer { pB in
        gradients.data.withUnsafeBufferPointer { gB in
        state.m.data.withUnsafeMutableBufferPointer { mB in
        state.v.data.withUnsafeMutableBufferPointer { vB in
            Self.step(parameters: pB.baseAddress!, gradients: gB.baseAddress!, m: mB.baseAddress!, v: vB.baseAddress!, count: count,
                      t: state.step, learningRate: lr, gradientScale: gradientScale, beta1: beta1, beta2: beta2, eps: eps)
        }}}}
    }

    /// The one Adam update of the project, over flat buffers: step `t` (from 1) of `count` parameters
    /// with their moments `m` and `v`. The training optimiser and the prefilter fitter both call it.
    public static func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int, t step: Int,
                            learningRate lr: Double, gradientScale: Float = 1,
                            beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
        let t = Double(step)
        let stepSize = Float(lr / (1 - pow(beta1, t)))
        let bc2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
        let b2 = Float(beta2), e = Float(eps)
        let oneMinusB1 = Float(1 - beta1), oneMinusB2 = Float(1 - beta2)
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
    }
}
