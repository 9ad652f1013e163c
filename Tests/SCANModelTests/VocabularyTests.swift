import Foundation
import TestSupport
import XCTest
@testable import SCANModel

final class VocabularyTests: XCTestCase {
    private var temporaryDirectory: URL!

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("scan-vocabulary-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    private func temporaryFile(_ name: String, _ content: String) throws -> String {
        let url = temporaryDirectory.appendingPathComponent(name)
        try Data(content.utf8).write(to: url)
        return url.path
    }

    private func referenceFile(_ name: String) -> String {
        TokenizerTests.referenceDirectory().appendingPathComponent(name).path
    }

    /// The error thrown by `body`, failing the test when it does not throw a VocabularyError.
    private func vocabularyError(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> VocabularyError? {
        do {
            _ = try body()
            XCTFail("expected a VocabularyError", file: file, line: line)
        } catch let error as VocabularyError {
            return error
        } catch {
            XCTFail("expected a VocabularyError, got \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: - Reading and writing

    func testRoundTrip() throws {
        let words = ["a", "dog", ".", "\"quoted\"", "back\\slash", "café", "cafe\u{301}", "naïve", "😀", "tab\there", "\u{7F}"]
        let vocab = try Vocabulary(words: words)
        XCTAssertEqual(vocab.count, 15)
        XCTAssertEqual(vocab.idx2word.prefix(4), ["<pad>", "<start>", "<end>", "<unk>"])
        let path = temporaryDirectory.appendingPathComponent("vocab.json").path
        try vocab.write(to: path)
        let read = try Vocabulary(contentsOf: path)
        XCTAssertEqual(read, vocab)
        XCTAssertEqual(read.jsonData(), vocab.jsonData())
        // Canonically equivalent spellings stay distinct words, as in Python.
        XCTAssertEqual(read.id("café"), 9)
        XCTAssertEqual(read.id("cafe\u{301}"), 10)
        XCTAssertEqual(read.id("😀"), 12)
        // Python's json.dump layout.
        let text = String(decoding: vocab.jsonData(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\"word2idx\": {\"<pad>\": 0, \"<start>\": 1, \"<end>\": 2, \"<unk>\": 3, \"a\": 4"))
        XCTAssertTrue(text.contains("\"caf\\u00e9\": 9, \"cafe\\u0301\": 10"))
        XCTAssertTrue(text.contains("\"\\ud83d\\ude00\": 12"))
        XCTAssertTrue(text.contains("\"\\\"quoted\\\"\": 7, \"back\\\\slash\": 8"))
        XCTAssertTrue(text.contains("\"tab\\there\": 13, \"\\u007f\": 14}, \"idx2word\": {\"0\": \"<pad>\""))
        XCTAssertTrue(text.hasSuffix("\"14\": \"\\u007f\"}, \"idx\": 15}"))
    }

    /// Every original vocabulary in the reference folder (`*_precomp_vocab.json`, written by the
    /// original's vocab.py) reads with its special tokens in place and writes back byte for byte.
    func testReadsTheRealVocabulariesByteForByte() throws {
        let dir = ReferenceFixtures.directory.path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix("_precomp_vocab.json") }.sorted()
        XCTAssertFalse(files.isEmpty, "no *_precomp_vocab.json in \(dir): this test needs one original vocabulary")
        for name in files {
            let path = referenceFile(name)
            let vocab = try Vocabulary(contentsOf: path)
            XCTAssertGreaterThan(vocab.count, 4, name)
            XCTAssertEqual(vocab.id("<pad>"), Vocabulary.pad, name)
            XCTAssertEqual(vocab.id("<start>"), Vocabulary.start, name)
            XCTAssertEqual(vocab.id("<end>"), Vocabulary.end, name)
            XCTAssertEqual(vocab.id("<unk>"), Vocabulary.unk, name)
            XCTAssertEqual(vocab.id("no-such-word-here"), Vocabulary.unk, name)
            for id in [4, vocab.count / 2, vocab.count - 1] { XCTAssertEqual(vocab.word(id).map { vocab.id($0) }, id, "\(name) id \(id)") }
            XCTAssertEqual(vocab.jsonData(), try Data(contentsOf: URL(fileURLWithPath: path)), name)
        }
    }

    func testReadsKeysInAnyOrderAndExtraKeys() throws {
        let json = """
        {"idx": 5, "extra": [1, 2.5, null, true],
         "idx2word": {"4": "dog", "0": "<pad>", "2": "<end>", "1": "<start>", "3": "<unk>"},
         "word2idx": {"dog": 4, "<unk>": 3, "<end>": 2, "<start>": 1, "<pad>": 0}}
        """
        let vocab = try Vocabulary(jsonData: Data(json.utf8))
        XCTAssertEqual(vocab.idx2word, ["<pad>", "<start>", "<end>", "<unk>", "dog"])
    }

    // MARK: - Validation errors

    func testGarbageJSON() throws {
        let path = try temporaryFile("garbage.json", "{\"word2idx\": {\"<pad>\": 0,, }")
        let error = vocabularyError { try Vocabulary(contentsOf: path) }
        guard case let .malformedJSON(errorPath, line, offset, _, _)? = error else {
            return XCTFail("expected malformedJSON, got \(String(describing: error))")
        }
        XCTAssertEqual(errorPath, path)
        XCTAssertEqual(line, 1)
        XCTAssertEqual(offset, 25)
        XCTAssertTrue(error!.description.contains(path), error!.description)
        XCTAssertTrue(error!.description.contains("expected"), error!.description)

        for bad in ["", "not json", "{\"a\": 1} trailing", "[1, 2", "{\"a\": \"\u{1}\"}", "{\"a\": \"\\x\"}"] {
            let p = try temporaryFile("bad.json", bad)
            guard case .malformedJSON? = vocabularyError({ try Vocabulary(contentsOf: p) }) else {
                return XCTFail("\(bad): expected malformedJSON")
            }
        }
        let invalidUTF8 = temporaryDirectory.appendingPathComponent("latin1.json")
        try Data([0x7B, 0x22, 0xE9, 0x22, 0x3A, 0x31, 0x7D]).write(to: invalidUTF8)
        guard case .malformedJSON(_, _, 2, _, _)? = vocabularyError({ try Vocabulary(contentsOf: invalidUTF8.path) }) else {
            return XCTFail("expected malformedJSON at byte 2")
        }
    }

    func testWrongLayout() throws {
        let cases = [
            "[]",
            "{\"word2idx\": {}, \"idx2word\": {}}",
            "{\"word2idx\": [], \"idx2word\": {}, \"idx\": 0}",
            "{\"word2idx\": {\"<pad>\": \"0\"}, \"idx2word\": {\"0\": \"<pad>\"}, \"idx\": 1}",
            "{\"word2idx\": {\"<pad>\": 0}, \"idx2word\": {\"zero\": \"<pad>\"}, \"idx\": 1}",
            "{\"word2idx\": {\"<pad>\": 0}, \"idx2word\": {\"0\": 0}, \"idx\": 1}",
            "{\"word2idx\": {\"<pad>\": 0.0}, \"idx2word\": {\"0\": \"<pad>\"}, \"idx\": 1}",
        ]
        for json in cases {
            let path = try temporaryFile("layout.json", json)
            let error = vocabularyError { try Vocabulary(contentsOf: path) }
            guard case .invalidLayout? = error else {
                return XCTFail("\(json): expected invalidLayout, got \(String(describing: error))")
            }
            XCTAssertTrue(error!.description.hasPrefix(path), error!.description)
        }
    }

    func testMissingSpecialTokens() throws {
        // <start> and <end> swapped.
        let swapped = """
        {"word2idx": {"<pad>": 0, "<end>": 1, "<start>": 2, "<unk>": 3}, "idx2word": {"0": "<pad>", "1": "<end>", "2": "<start>", "3": "<unk>"}, "idx": 4}
        """
        let path = try temporaryFile("swapped.json", swapped)
        let error = vocabularyError { try Vocabulary(contentsOf: path) }
        XCTAssertEqual(error, .missingSpecialToken(path: path, token: "<start>", expectedID: 1, found: "idx2word[\"1\"] = \"<end>\""))
        XCTAssertTrue(error!.description.contains(path))

        // No specials at all: a plain word list.
        let plain = """
        {"word2idx": {"a": 0, "dog": 1}, "idx2word": {"0": "a", "1": "dog"}, "idx": 2}
        """
        let plainPath = try temporaryFile("plain.json", plain)
        XCTAssertEqual(vocabularyError { try Vocabulary(contentsOf: plainPath) },
                       .missingSpecialToken(path: plainPath, token: "<pad>", expectedID: 0, found: "idx2word[\"0\"] = \"a\""))

        // Too short.
        let short = """
        {"word2idx": {"<pad>": 0, "<start>": 1}, "idx2word": {"0": "<pad>", "1": "<start>"}, "idx": 2}
        """
        let shortPath = try temporaryFile("short.json", short)
        XCTAssertEqual(vocabularyError { try Vocabulary(contentsOf: shortPath) },
                       .missingSpecialToken(path: shortPath, token: "<end>", expectedID: 2, found: "no idx2word entry \"2\""))

        // In memory.
        XCTAssertThrowsError(try Vocabulary(idx2word: ["<pad>", "<start>", "<end>"]))
        XCTAssertThrowsError(try Vocabulary(words: ["dog", "dog"]))
        XCTAssertThrowsError(try Vocabulary(words: ["<unk>"]))
    }

    func testInconsistentMaps() throws {
        let specials = "\"<pad>\": 0, \"<start>\": 1, \"<end>\": 2, \"<unk>\": 3"
        let specialIDs = "\"0\": \"<pad>\", \"1\": \"<start>\", \"2\": \"<end>\", \"3\": \"<unk>\""
        let cases: [(String, String)] = [
            ("{\"word2idx\": {\(specials), \"dog\": 4, \"cat\": 5}, \"idx2word\": {\(specialIDs), \"4\": \"cat\", \"5\": \"dog\"}, \"idx\": 6}", "word2idx[\"dog\"] = 4"),
            ("{\"word2idx\": {\(specials), \"dog\": 4}, \"idx2word\": {\(specialIDs), \"5\": \"dog\"}, \"idx\": 6}", "no id 4"),
            ("{\"word2idx\": {\(specials), \"dog\": 4}, \"idx2word\": {\(specialIDs), \"4\": \"dog\"}, \"idx\": 7}", "\"idx\": 7"),
            ("{\"word2idx\": {\(specials)}, \"idx2word\": {\(specialIDs), \"4\": \"dog\"}, \"idx\": 5}", "no entry for \"dog\""),
            ("{\"word2idx\": {\(specials), \"dog\": 4, \"cat\": 4}, \"idx2word\": {\(specialIDs), \"4\": \"dog\"}, \"idx\": 5}", "\"cat\""),
        ]
        for (json, found) in cases {
            let path = try temporaryFile("inconsistent.json", json)
            let error = vocabularyError { try Vocabulary(contentsOf: path) }
            guard case let .inconsistent(errorPath, _, foundText)? = error else {
                XCTFail("\(json): expected inconsistent, got \(String(describing: error))")
                continue
            }
            XCTAssertEqual(errorPath, path)
            XCTAssertTrue(foundText.contains(found), "\(foundText) should mention \(found)")
        }
        let duplicate = "{\"word2idx\": {\(specials), \"dog\": 4}, \"idx2word\": {\(specialIDs), \"4\": \"dog\", \"5\": \"dog\"}, \"idx\": 6}"
        let path = try temporaryFile("duplicate.json", duplicate)
        XCTAssertEqual(vocabularyError { try Vocabulary(contentsOf: path) },
                       .duplicateWord(path: path, word: "dog", firstID: 4, secondID: 5))
    }

    func testUnreadableFile() {
        let path = temporaryDirectory.appendingPathComponent("missing.json").path
        XCTAssertEqual(vocabularyError { try Vocabulary(contentsOf: path) },
                       .unreadableFile(path: path, reason: "no such file"))
        XCTAssertEqual(vocabularyError { try Vocabulary(contentsOf: self.temporaryDirectory.path) },
                       .unreadableFile(path: temporaryDirectory.path, reason: "it is a directory"))
    }

    // MARK: - Encoding

    func testEncode() throws {
        let vocab = try Vocabulary(words: ["a", "dog", "runs", "."])
        XCTAssertEqual(try vocab.encode("A dog runs."), [1, 4, 5, 6, 7, 2])
        XCTAssertEqual(try vocab.encode("A cat runs ."), [1, 4, 3, 6, 7, 2])
        XCTAssertEqual(vocab.encode(tokens: []), [1, 2])
        XCTAssertEqual(vocab.unknownWords(in: "A cat and a cat's toy"), ["cat", "and", "'s", "toy"])
        XCTAssertEqual(vocab.decode([1, 4, 5, 2, 99]), ["<start>", "a", "dog", "<end>", "<99?>"])
        XCTAssertEqual(vocab.word2idx["dog"], 5)
        XCTAssertTrue(vocab.contains("dog"))
        XCTAssertFalse(vocab.contains("Dog"))
    }

    func testEncodeEmptyCaptionThrows() throws {
        let vocab = try Vocabulary(words: ["a"])
        for caption in ["", "   ", "\t\r\n"] {
            XCTAssertEqual(vocabularyError { try vocab.encode(caption) }, .emptyCaption(caption: caption))
        }
        XCTAssertTrue(VocabularyError.emptyCaption(caption: " ").description.contains("no tokens"))
    }

    // MARK: - Building

    /// Each evalrank case's vocabulary was built by the original Vocabulary code from the case's
    /// captions with threshold 1 (every word); threshold 2 or more drops words.
    func testBuilderReproducesTheEvalrankVocabularies() throws {
        let cases = try ReferenceFixtures.cases(kinds: ["evalrank"])
        XCTAssertFalse(cases.isEmpty, "no evalrank case in \(ReferenceFixtures.directory.path)")
        for c in cases {
            guard let capsName = c.json["captions_file"]?.string, let vocabName = c.json["vocab_file"]?.string else {
                XCTFail("\(c.name): the case names no captions_file or vocab_file")
                continue
            }
            let capsPath = referenceFile(capsName), vocabPath = referenceFile(vocabName)
            let reference = try Vocabulary(contentsOf: vocabPath)
            let built = try VocabularyBuilder.build(captionFiles: [capsPath], threshold: 1)
            XCTAssertEqual(built.count, reference.count, c.name)
            XCTAssertEqual(built.idx2word, reference.idx2word, c.name)
            XCTAssertEqual(built.jsonData(), try Data(contentsOf: URL(fileURLWithPath: vocabPath)), c.name)

            var builder = VocabularyBuilder()
            XCTAssertEqual(builder.threshold, 4)
            try builder.addCaptions(contentsOf: capsPath)
            let lines = try String(contentsOfFile: capsPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(builder.captionCount, lines.last == "" ? lines.count - 1 : lines.count, c.name)
            XCTAssertEqual(builder.distinctWords.count, reference.count - 4, c.name)
            for threshold in 2...4 {
                builder.threshold = threshold
                let smaller = try builder.makeVocabulary()
                XCTAssertLessThanOrEqual(smaller.count, reference.count, "\(c.name) threshold \(threshold)")
                XCTAssertTrue(smaller.idx2word.dropFirst(4).allSatisfy { builder.count(of: $0) >= threshold })
                XCTAssertTrue(reference.idx2word.dropFirst(4).allSatisfy { builder.count(of: $0) >= threshold || !smaller.contains($0) })
            }
        }
    }

    func testBuilderThresholdOrderAndLines() throws {
        // CRLF, an empty line, a missing final newline, ASCII-only lowercasing.
        let train = try temporaryFile("train_caps.txt", "A dog runs .\r\n\nthe DOG sits\r\na cat runs")
        let dev = try temporaryFile("dev_caps.txt", "a dog . \n")
        var builder = VocabularyBuilder(threshold: 2)
        try builder.addCaptions(contentsOf: train)
        try builder.addCaptions(contentsOf: dev)
        XCTAssertEqual(builder.captionCount, 5)
        XCTAssertEqual(builder.count(of: "dog"), 3)
        XCTAssertEqual(builder.distinctWords, ["a", "dog", "runs", ".", "the", "sits", "cat"])
        XCTAssertEqual(try builder.makeVocabulary().idx2word, ["<pad>", "<start>", "<end>", "<unk>", "a", "dog", "runs", "."])
        builder.threshold = 0
        XCTAssertEqual(vocabularyError { try builder.makeVocabulary() }, .invalidThreshold(0))

        let folder = temporaryDirectory.path
        XCTAssertEqual(VocabularyBuilder.captionFiles(datasetDirectory: folder), [train, dev])
        XCTAssertEqual(try VocabularyBuilder.build(captionFiles: [train, dev], threshold: 3).idx2word.dropFirst(4), ["a", "dog"])

        let latin1 = temporaryDirectory.appendingPathComponent("latin1.txt")
        try Data([0x61, 0x0A, 0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: latin1)
        XCTAssertEqual(vocabularyError { try builder.addCaptions(contentsOf: latin1.path) },
                       .invalidUTF8(path: latin1.path, line: 2))
    }
}
