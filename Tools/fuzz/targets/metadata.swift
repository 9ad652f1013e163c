// A stored image-metadata record (SCANIndex/ImageMetadata.swift): magic, version, XXH64, then JSON.
// As in the record target, an odd first byte patches in the right checksum so the JSON is reached.
import Foundation
@testable import SCANIndex

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetadata(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 1, let data else { return 0 }
    var value = Array(UnsafeRawBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 1 && value.count >= ImageMetadata.headerSize {
        value.withUnsafeMutableBytes { v in
            let sum = XXH64.checksum(head: UnsafeRawBufferPointer(rebasing: v[0..<8]),
                                     body: UnsafeRawBufferPointer(rebasing: v[ImageMetadata.headerSize...]))
            v.storeBytes(of: sum.littleEndian, toByteOffset: 8, as: UInt64.self)
        }
    }
    expectTypedError("metadata", { $0 is IndexError }) {
        let m = try value.withUnsafeBytes { try ImageMetadata.decode($0, key: "fuzz") }
        _ = try m.encoded()
    }
    return 0
}
