import Foundation
@testable import SCANTraining
import XCTest

/// The SIMD exp / tanh / sigmoid against Double libm.
final class FastMathTests: XCTestCase {
    func sweep(_ lo: Double, _ hi: Double, count: Int, _ check: (Float) -> Void) {
        let xs: [Float] = (0..<count).map { Float(lo + (hi - lo) * Double($0) / Double(count - 1)) }
            + [0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 0.624_999_9, 0.625, -0.625, 0.625_000_1]
        for x in xs { check(x) }
    }

    func testExpWithinThreeUlp() {
        var worst = 0.0
        sweep(-87, 88, count: 20_001) { x in
            let y = Double(FastMath.exp(SIMD8(repeating: x))[0])
            let ref = Foundation.exp(Double(x))
            worst = max(worst, abs(y - ref) / ref)
        }
        XCTAssertLessThanOrEqual(worst, 3 * 1.19e-7, "exp relative error \(worst)")
    }

    /// The Float GRU (eight-lane gates, with a tail: H = 12) agrees with the generic Double one.
    func testFloatGatesMatchDoubleGRU() {
        let e = 3, h = 12, g = 3 * h
        let sched = PackedSchedule(lengths: [4, 2, 3])
        let u = 5
        let inputRow = (0..<sched.tokens).map { $0 % u }
        let x = FiniteDifference.values(u * e, seed: 40)
        let p = FiniteDifference.values(g * e + g * h + 2 * g, seed: 41, -1, 1)
        func run<T: TrainScalar>(_: T.Type) -> [Double] {
            let xs = x.map { T($0) }, ps = p.map { T($0) }
            return ps.withUnsafeBufferPointer { pb in
                let b = pb.baseAddress!
                let c = GRULayer.forward(x: xs, inputRows: u, inputRow: inputRow, inputSize: e, hidden: h, schedule: sched, reverse: true,
                                         weights: GRUWeights(wih: b, whh: b + g * e, bih: b + g * e + g * h, bhh: b + g * e + g * h + g))
                return c.out.map { Double($0) } + c.r.map { Double($0) } + c.n.map { Double($0) }
            }
        }
        let f = run(Float.self), d = run(Double.self)
        for k in 0..<f.count { XCTAssertEqual(f[k], d[k], accuracy: 2e-6, "element \(k)") }
    }

    func testTanhAndSigmoid() {
        var worstTanh = 0.0, worstSig = 0.0
        sweep(-12, 12, count: 20_001) { x in
            let t = Double(FastMath.tanh(SIMD8(repeating: x))[0])
            let tr = Foundation.tanh(Double(x))
            worstTanh = max(worstTanh, abs(t - tr) / max(abs(tr), 1e-30))
            let s = Double(FastMath.sigmoid(SIMD8(repeating: x))[0])
            let sr = 1 / (1 + Foundation.exp(-Double(x)))
            worstSig = max(worstSig, abs(s - sr) / sr)
        }
        XCTAssertLessThanOrEqual(worstTanh, 4 * 1.19e-7, "tanh relative error \(worstTanh)")
        XCTAssertLessThanOrEqual(worstSig, 4 * 1.19e-7, "sigmoid relative error \(worstSig)")
        // Saturation without inf or nan.
        XCTAssertEqual(FastMath.tanh(SIMD8(repeating: 200))[0], 1)
        XCTAssertEqual(FastMath.tanh(SIMD8(repeating: -200))[0], -1)
        XCTAssertEqual(FastMath.sigmoid(SIMD8(repeating: -200))[0], 0, accuracy: 1e-37)
        XCTAssertEqual(FastMath.sigmoid(SIMD8(repeating: 200))[0], 1)
    }
}
