import Foundation
import SCANModel
import TestSupport
import XCTest

/// Bad input to the model gets a typed error naming the file or input and the problem.
final class ModelInputErrorTests: XCTestCase {
    func referenceCase() throws -> ReferenceCase {
        guard let c = try ReferenceFixtures.cases(kinds: ["model"]).first else { throw XCTSkip("no model case") }
        return c
    }

    func testUnknownOptionValuesAreNamed() {
        for (field, value) in [("raw_feature_norm", "clipped_l3norm"), ("agg_func", "Median"), ("cross_attn", "both"), ("precomp_enc_type", "fancy")] {
            XCTAssertThrowsError(try ModelConfig(json: [field: .string(value)], file: "config.json")) { err in
                guard case let ModelError.unknownOptionValue(file, f, v, allowed)? = err as? ModelError else { return XCTFail("\(err)") }
                XCTAssertEqual([file, f, v], ["config.json", field, value])
                XCTAssertFalse(allowed.isEmpty)
            }
        }
        XCTAssertThrowsError(try ModelConfig(json: ["embed_size": .string("big")], file: "c.json")) { err in
            XCTAssertTrue("\(err)".contains("embed_size"), "\(err)")
        }
        XCTAssertThrowsError(try ModelConfig(json: ["num_layers": .number(2)], file: "c.json")) { err in
            XCTAssertTrue("\(err)".contains("num_layers") && "\(err)".contains("not supported"), "\(err)")
        }
    }

    func testFeatureDimensionMismatch() throws {
        let model = try referenceCase().model()
        XCTAssertThrowsError(try model.encodeImages(Tensor(zeros: [2, 3, model.config.imgDim + 1]))) { err in
            XCTAssertEqual(err as? ModelError, .featureDimension(source: "images", expected: model.config.imgDim, found: model.config.imgDim + 1))
        }
    }

    func testMissingOrMisshapedWeights() throws {
        let c = try referenceCase()
        var params = try c.parameters()
        params["img_enc.fc.bias"] = nil
        XCTAssertThrowsError(try SCAN(config: c.config(), parameters: params, file: "m.safetensors")) { err in
            XCTAssertEqual(err as? ModelError, .missingWeight(file: "m.safetensors", name: "img_enc.fc.bias"))
        }
        params = try c.parameters()
        params["txt_enc.embed.weight"] = Tensor(zeros: [3, 3])
        XCTAssertThrowsError(try SCAN(config: c.config(), parameters: params, file: "m.safetensors")) { err in
            guard case .weightShape(_, "txt_enc.embed.weight", _, [3, 3])? = err as? ModelError else { return XCTFail("\(err)") }
        }
    }

    func testCaptionsWithZeroTokensOrForeignIdsAreRefused() throws {
        let model = try referenceCase().model()
        XCTAssertThrowsError(try model.encodeCaptions([[1, 5, 2], []])) { err in
            XCTAssertEqual(err as? ModelError, .invalidCaption(index: 1, reason: "caption has zero tokens"))
        }
        XCTAssertThrowsError(try model.encodeCaptions([[1, 99_999, 2]])) { err in
            XCTAssertTrue("\(err)".contains("99999"), "\(err)")
        }
        let vocab = try Vocabulary(words: ["dog"])
        XCTAssertThrowsError(try vocab.encode("   "))
    }

    func testModelDirectoryChecksItsFiles() throws {
        let c = try referenceCase()
        let dir = NSTemporaryDirectory() + "scan-modeldir-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try ModelDirectory(path: dir).load()) { err in
            XCTAssertEqual(err as? ModelError, .missingFile(path: dir))
        }
        // A vocabulary whose size differs from the model's.
        let vocab = try Vocabulary(words: ["dog", "cat"])
        try ModelDirectory.save(config: c.config(), parameters: c.parameters(), vocabulary: vocab, to: dir)
        XCTAssertThrowsError(try ModelDirectory(path: dir).load()) { err in
            XCTAssertTrue("\(err)".contains("vocab.json") && "\(err)".contains("vocab_size"), "\(err)")
        }
        // The right size loads, and the model scores like the one built from the case.
        let words = (0..<(try c.config().vocabSize - 4)).map { "w\($0)" }
        try ModelDirectory.save(config: c.config(), parameters: c.parameters(), vocabulary: Vocabulary(words: words), to: dir)
        let (loaded, _) = try ModelDirectory(path: dir).load()
        let images = try c.tensors.tensor("images")
        XCTAssertEqual(try loaded.encodeImages(images).data, try c.model().encodeImages(images).data)
        XCTAssertEqual(try ModelDirectory(path: dir).fingerprint().count, 16)
    }
}
