// A stored record (SCANIndex/RecordCodec.swift, RecordHeader.swift): the codec's decoder fed arbitrary
// bytes, as a reader gets them from LMDB. A random value almost never carries a valid XXH64, so for
// half the inputs (first byte odd) the checksum is recomputed and patched in: that lets the fuzzer past
// the checksum into zstd, the unshuffle and the dequantisation, as a bug in a writer would.
import Foundation
@testable import SCANIndex

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecord(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    let value = recordValue(data, size, skip: 1, patch: data[0] & 1 == 1, headerSize: RecordHeader.size, checksum: RecordHeader.checksum)
    let typed: (Error) -> Bool = { $0 is IndexError }
    value.withUnsafeBytes { v in
        for kind in [RecordHeader.Kind.regions, .vector] {
            expectTypedError("record", typed) {
                let h = try RecordCodec.header(of: v, kind: kind)
                // A reader sizes its buffer from the header, but never beyond what it could hold.
                guard h.valueCount <= 1 << 24 else { return }
                var out = [Float](repeating: 0, count: h.valueCount)
                try out.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(v, kind: kind, into: $0) }
            }
        }
        expectTypedError("record", typed) { _ = try RecordCodec.decodeRegions(value) }
        expectTypedError("record", typed) { _ = try RecordCodec.decodeVector(v) }
        // A buffer smaller than the header asks for is refused, never overrun.
        expectTypedError("record", typed) {
            var small = [Float](repeating: 0, count: 3)
            try small.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(v, into: $0) }
        }
    }
    return 0
}
