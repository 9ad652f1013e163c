// A product-quantised region record (SCANIndex/RecordCodec.swift with ProductQuantizer.decode): the
// decoder fed arbitrary bytes with one of four fixed codebooks, as a reader of a pq index gets them.
// Byte 0: bit 0 patches in the right checksum (as in the record target), bits 1-2 choose the
// codebook (dim 16 pq4 x 256, dim 16 pq8 x 256, dim 16 pq4 x 3 so that most codes are beyond it,
// dim 64 pq16 x 17); the rest is the value.
import Foundation
@testable import SCANIndex

/// The fuzz codebooks (also written by seeds/MakeSeeds.swift and rebuilt by the replay test).
func fuzzCodebook(_ choice: Int) -> ProductQuantizer {
    let shapes = [(16, 4, 256), (16, 8, 256), (16, 4, 3), (64, 16, 17)]
    let (dim, sub, n) = shapes[choice & 3]
    let values = (0..<(dim * n)).map { Float(($0 * 37) % 101) / 50 - 1 }
    return try! ProductQuantizer(dim: dim, subDim: sub, centroidCount: n, centroids: values)
}

private let codebooks = (0..<4).map(fuzzCodebook)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPQRecord(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    let value = recordValue(data, size, skip: 1, patch: data[0] & 1 == 1, headerSize: RecordHeader.size, checksum: RecordHeader.checksum)
    let cb = codebooks[Int(data[0] >> 1) & 3]
    let typed: (Error) -> Bool = { $0 is IndexError }
    // The reader's own entry point: it sizes the tensor from the header (what the header may claim is the question).
    expectTypedError("pqrecord", typed) { _ = try RecordCodec.decodeRegions(value, key: "fuzz", codebook: cb) }
    value.withUnsafeBytes { v in
        // Without a codebook, and into a buffer smaller than the header asks for: refused, never overrun.
        expectTypedError("pqrecord", typed) {
            var out = [Float](repeating: 0, count: 16)
            try out.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(v, into: $0) }
        }
        expectTypedError("pqrecord", typed) {
            var out = [Float](repeating: 0, count: 5)
            try out.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(v, into: $0, codebook: cb) }
        }
        // Copying checks (split) the structure and checksum without decoding.
        expectTypedError("pqrecord", typed) { _ = try RecordCodec.check(v) }
    }
    return 0
}
