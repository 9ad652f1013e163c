// The tokenizer (SCANModel/Tokenizer.swift) on arbitrary text: lossy UTF-8 decoding as a query string
// would arrive, then normalisation, word tokenization and the vocabulary lookup.
import Foundation
import SCANModel

private let vocabulary = try! Vocabulary(words: ["a", "man", "dog", "'s", "n't", "."])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    let tokenizer = Tokenizer()
    let tokens = tokenizer.tokenize(text)
    _ = Tokenizer.normalize(text)
    _ = tokenizer.wordTokenize(text)
    _ = vocabulary.encode(tokens: tokens)
    _ = vocabulary.unknownWords(in: text)
    expectTypedError("tokenizer", { $0 is VocabularyError || $0 is ModelError }) { _ = try vocabulary.encode(text) }
    return 0
}
