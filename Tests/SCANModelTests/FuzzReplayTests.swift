import Foundation
@testable import SCANModel
import TestSupport
import XCTest

/// Replays the fuzz targets' committed seeds and regressions (Tools/fuzz) for the model side's parsers:
/// each input parses or ends in the module's typed error, never a trap.
final class FuzzReplayTests: XCTestCase {
    func testConfigInputs() throws {
        var parsed = 0
        for input in try FuzzInputs.inputs("config") {
            do {
                _ = try ModelConfig.parse(Data(input.bytes), file: input.name).json
                XCTAssertFalse(input.isRegression, "\(input.name) parsed")
                parsed += 1
            } catch let error as ModelError {
                XCTAssertTrue("\(error)".contains(input.name), "\(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0, "no config seed parses")
    }

    /// Regression: a JSON number beyond Int's range for an integer option trapped in Int(_:).
    func testConfigIntegerOutOfRangeNamesTheField() {
        for text in [#"{"embed_size": 1e300}"#, #"{"batch_size": 9223372036854775808}"#] {
            XCTAssertThrowsError(try ModelConfig.parse(Data(text.utf8), file: "m/config.json")) { error in
                guard case let ModelError.invalidOption(file, field, _)? = error as? ModelError else {
                    return XCTFail("expected ModelError.invalidOption, got \(error)")
                }
                XCTAssertEqual(file, "m/config.json")
                XCTAssertTrue(text.contains(field), field)
            }
        }
    }

    func testVocabInputs() throws {
        var parsed = 0
        for input in try FuzzInputs.inputs("vocab") {
            do {
                let vocab = try Vocabulary(jsonData: Data(input.bytes), path: input.name)
                XCTAssertFalse(input.isRegression, "\(input.name) parsed")
                XCTAssertEqual(try Vocabulary(jsonData: vocab.jsonData()), vocab)
                parsed += 1
            } catch is VocabularyError {}
        }
        XCTAssertGreaterThan(parsed, 0, "no vocab seed parses")
    }

    func testCaptionInputs() throws {
        var parsed = 0
        for input in try FuzzInputs.inputs("captions") {
            do {
                var builder = VocabularyBuilder(threshold: 1)
                try builder.addCaptions(bytes: input.bytes, path: input.name)
                _ = try builder.makeVocabulary()
                parsed += 1
            } catch is VocabularyError {}
        }
        XCTAssertGreaterThan(parsed, 0, "no caption seed parses")
    }

    func testCheckpointInputs() throws {
        var read = 0
        for input in try FuzzInputs.inputs("checkpoint") {
            do {
                let checkpoint = try OriginalCheckpoint(bytes: input.bytes, file: input.name)
                _ = try CheckpointConversion(checkpoint).modelConfig(file: input.name)
                XCTAssertFalse(input.isRegression, "\(input.name) read")
                read += 1
            } catch is CheckpointError {} catch is ModelError {}
        }
        XCTAssertGreaterThan(read, 0, "no checkpoint seed reads")
    }

    func testTokenizerInputs() throws {
        let vocabulary = try Vocabulary(words: ["a", "man", "dog"])
        var tokens = 0
        for input in try FuzzInputs.inputs("tokenizer") {
            let text = String(decoding: input.bytes, as: UTF8.self)
            tokens += Tokenizer().tokenize(text).count
            _ = vocabulary.unknownWords(in: text)
            do { _ = try vocabulary.encode(text) } catch is VocabularyError {}
        }
        XCTAssertGreaterThan(tokens, 0)
    }
}
