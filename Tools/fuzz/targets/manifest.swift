// The index manifest (SCANIndex/IndexManifest.swift): JSON, format version, fields, ranges.
import Foundation
import SCANIndex

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    expectTypedError("manifest", { $0 is IndexError }) {
        let m = try IndexManifest.decode(bytes, path: "fuzz/index")
        let again = try m.jsonBytes().withUnsafeBytes { try IndexManifest.decode($0, path: "fuzz/index (written back)") }
        precondition(again == m, "manifest does not survive a write and a read")
    }
    return 0
}
