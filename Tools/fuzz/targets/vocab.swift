// vocab.json (SCANModel/Vocabulary.swift): the project's own JSON reader, then idx2word/word2idx checks.
import Foundation
import SCANModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVocab(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: data, count: size))
    expectTypedError("vocab", { $0 is VocabularyError }) {
        let vocab = try Vocabulary(jsonData: bytes, path: "fuzz/vocab.json")
        _ = try Vocabulary(jsonData: vocab.jsonData(), path: "fuzz/vocab.json (written back)")
        _ = vocab.decode(vocab.encode(tokens: Array(vocab.idx2word.prefix(8))))
    }
    return 0
}
