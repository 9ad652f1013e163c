import CSCANKernels
import SCANCore
import XCTest

final class HalfTests: XCTestCase {
    func testEveryHalfConvertsLikeTheScalarReferenceAndSwift() {
        let bits = (0...0xFFFF).map { UInt16($0) }
        let fast = Half.toFloat(bits)
        var ref = [Float](repeating: 0, count: bits.count)
        bits.withUnsafeBufferPointer { b in ref.withUnsafeMutableBufferPointer { scan_f16_to_f32_reference(b.baseAddress!, $0.baseAddress!, bits.count) } }
        for i in 0..<bits.count {
            XCTAssertEqual(fast[i].bitPattern, ref[i].bitPattern, "half 0x\(String(i, radix: 16))")
            let swift = Float(Float16(bitPattern: bits[i]))
            if !swift.isNaN { XCTAssertEqual(fast[i].bitPattern, swift.bitPattern, "half 0x\(String(i, radix: 16))") }
        }
    }

    func testFloatToHalfRoundsToNearestEvenLikeSwift() {
        var values: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e-8, 5.96e-8, 2.98e-8, 2.9802322e-8, 6.1e-5, 1.0009765625, 1.00048828125, .infinity, -.infinity]
        var state: UInt32 = 12345
        for _ in 0..<200_000 {
            state = state &* 1_664_525 &+ 1_013_904_223
            values.append(Float(bitPattern: state & 0xBFFF_FFFF | (state & 1) << 31))
        }
        let fast = Half.fromFloat(values)
        var ref = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in ref.withUnsafeMutableBufferPointer { scan_f32_to_f16_reference(v.baseAddress!, $0.baseAddress!, values.count) } }
        for (i, x) in values.enumerated() where !x.isNaN {
            XCTAssertEqual(fast[i], Float16(x).bitPattern, "\(x)")
            XCTAssertEqual(ref[i], Float16(x).bitPattern, "\(x) (scalar)")
        }
    }
}
