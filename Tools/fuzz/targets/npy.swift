// The npy header (SCANCore/NPYArray.swift): magic, version, header length, the header dictionary,
// and the shape's byte count against the file size. Inputs that parse are also mapped and read.
import Foundation
@testable import SCANCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    expectTypedError("npy", { $0 is FormatError }) {
        let layout = try NPYArray.parseHeader(bytes, file: "fuzz.npy")
        try withScratchFile(bytes, name: "input.npy") { path in
            let array = try NPYArray(path: path)
            precondition(array.shape == layout.shape && array.count * array.dtype.byteSize == layout.dataBytes)
            if let rows = array.shape.first, rows > 0, array.shape.count > 1 { _ = array.rows(0..<1) }
            if array.shape.count <= 1 { _ = array.floats() }
        }
    }
    return 0
}
