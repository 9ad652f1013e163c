import CSCANKernels
import Foundation
import TestSupport
import XCTest

/// The F16C conversions (8 values per instruction) against the portable scalar ones: bit for bit on
/// every half, and on float32 values around every rounding boundary.
final class HalfConversionTests: XCTestCase {
    func testHalfToFloatMatchesPortableForEveryHalf() {
        let halves = (0...0xFFFF).map { UInt16($0) }
        var fast = [Float](repeating: 0, count: halves.count), slow = fast
        scan_f16_to_f32(halves, &fast, halves.count)
        scan_f16_to_f32_reference(halves, &slow, halves.count)
        for i in 0..<halves.count {
            if slow[i].isNaN { XCTAssertTrue(fast[i].isNaN, "half 0x\(String(i, radix: 16))"); continue }
            XCTAssertEqual(fast[i].bitPattern, slow[i].bitPattern, "half 0x\(String(i, radix: 16))")
        }
    }

    func testFloatToHalfMatchesPortable() {
        var values: [Float] = [0, -0, 1, -1, 65504, 65519.996, 65520, -65520, 1e-8, 2.9802322e-8, 5.9604645e-8, 6.1035156e-5, .infinity, -.infinity,
                               Float.leastNonzeroMagnitude, Float.greatestFiniteMagnitude]
        // Every half, and the floats just below, at and above the midpoint to its successor.
        for h in 0..<0x7C00 {
            var f: [Float] = [0, 0]
            let pair: [UInt16] = [UInt16(h), UInt16(h + 1)]
            scan_f16_to_f32_reference(pair, &f, 2)
            let mid = (Double(f[0]) + Double(f[1])) / 2
            let m = Float(mid)
            values += [f[0], -f[0], m, m.nextDown, m.nextUp, -m]
        }
        var rng = TestRNG(seed: 3)
        for _ in 0..<200_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        var fast = [UInt16](repeating: 0, count: values.count), slow = fast
        scan_f32_to_f16(values, &fast, values.count)
        scan_f32_to_f16_reference(values, &slow, values.count)
        var mismatches = 0
        for i in 0..<values.count where fast[i] != slow[i] {
            let nan = values[i].isNaN && (fast[i] & 0x7C00) == 0x7C00 && (fast[i] & 0x3FF) != 0
            if !nan {
                mismatches += 1
                if mismatches < 5 { XCTFail("\(values[i]) (0x\(String(values[i].bitPattern, radix: 16))): F16C 0x\(String(fast[i], radix: 16)), portable 0x\(String(slow[i], radix: 16))") }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }
}
