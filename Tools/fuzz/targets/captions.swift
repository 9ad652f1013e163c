// Caption files ({split}_caps.txt): the vocabulary builder's line reader (SCANModel/VocabularyBuilder.swift,
// lines split at "\n", strict UTF-8) and the feature sources' caption reader (SourceSupport.readLines in
// SCANIndex/FeatureSource.swift, "\r\n" or "\n", through the file's memory map).
import Foundation
@testable import SCANModel
@testable import SCANIndex

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptions(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    expectTypedError("captions", { $0 is VocabularyError }) {
        var builder = VocabularyBuilder(threshold: 1)
        try builder.addCaptions(bytes: Array(bytes), path: "fuzz/train_caps.txt")
        _ = try builder.makeVocabulary()
    }
    expectTypedError("captions", { $0 is IndexError }) {
        _ = try withScratchFile(bytes, name: "caps.txt") { try SourceSupport.readLines($0) }
    }
    return 0
}
