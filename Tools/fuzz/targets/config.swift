// config.json of a model directory (SCANModel/ModelConfig.swift): JSON, then every option's type and range.
import Foundation
@testable import SCANModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    expectTypedError("config", { $0 is ModelError }) {
        let config = try ModelConfig.parse(bytes, file: "fuzz/config.json")
        _ = config.json
    }
    return 0
}
