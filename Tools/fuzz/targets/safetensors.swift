// The safetensors header (SCANCore/Safetensors.swift): header length, JSON header, dtypes, shapes,
// data offsets; every tensor that parses is converted the ways the model loader asks for.
import Foundation
import SCANCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    expectTypedError("safetensors", { $0 is FormatError }) {
        let file = try SafetensorsFile(path: "fuzz.safetensors", bytes: bytes)
        for name in file.names {
            _ = try? file.tensor(name)
            _ = try? file.doubles(name)
            _ = try? file.ints(name)
        }
        _ = file.serialized()
    }
    return 0
}
