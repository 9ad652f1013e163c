// Caption files ({split}_caps.txt, a source's captions, query files): the one caption reader
// (SCANData/CaptionFile.swift, through the file's memory map) and the vocabulary builder's line reader
// (SCANModel/VocabularyBuilder.swift: lines split at "\n", strict UTF-8, as vocab.py counts them).
import Foundation
@testable import SCANModel
import SCANData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptions(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    expectTypedError("captions", { $0 is VocabularyError }) {
        var builder = VocabularyBuilder(threshold: 1)
        try builder.addCaptions(bytes: Array(bytes), path: "fuzz/train_caps.txt")
        _ = try builder.makeVocabulary()
    }
    expectTypedError("captions", { $0 is DatasetError }) {
        _ = try withScratchFile(bytes, name: "caps.txt") { try CaptionFile.read($0) }
    }
    return 0
}
