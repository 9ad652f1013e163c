// Bottom-up-attention TSV rows (SCANData/TSVFeatureSource.swift): fields, integers, base64 sizes,
// then every row decoded (SCANData/Base64.swift) and checked. The reader's surface is a path and a
// memory map, so the input is written to tmpfs. The raw bytes are also fed to the base64 decoder.
import Foundation
@testable import SCANData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if let n = Base64.decodedLength(bytes) {
        let out = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 16)
        _ = Base64.decode(bytes, into: out)
        out.deallocate()
    }
    expectTypedError("tsv", { $0 is DatasetError }) {
        try withScratchFile(bytes, name: "features.tsv") { path in
            let source = try TSVFeatureSource(path: path)
            for i in 0..<min(source.count, 16) {
                _ = source.id(at: i)
                _ = try? source.item(at: i)
            }
        }
    }
    return 0
}
