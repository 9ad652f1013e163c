import Foundation
import SCANBenchmarks
import SCANModel
import SCANSearch
import TestSupport
import XCTest

/// The codec study on the real-caption case of the reference fixtures (the original's evalrank
/// folder: 20 images x 100 real Flickr30K captions, a converted model): prints the table, and checks
/// the study against itself where the answer is known.
final class CodecStudyTests: XCTestCase {
    func testCodecTableOnTheRealCaptionCase() throws {
        setenv("SCAN_QUIET", "1", 1)
        let c = try XCTUnwrap(try ReferenceFixtures.cases(kinds: ["evalrank"]).first)
        let tmp = makeTempDir(self)
        let modelDir = tmp + "/model", data = tmp + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let vocab = try Vocabulary(contentsOf: c.directory.appendingPathComponent(c.json["vocab_file"]!.string!).path)
        try ModelDirectory.save(config: try c.config(), parameters: try c.parameters(), vocabulary: vocab, to: modelDir)
        try NPY.write(try c.tensors.tensor("images"), to: data + "/test_ims.npy")
        try FileManager.default.copyItem(atPath: c.directory.appendingPathComponent(c.json["captions_file"]!.string!).path, toPath: data + "/test_caps.txt")
        let report = try CodecStudy.run(model: modelDir, features: data + "/test_ims.npy", captions: data + "/test_caps.txt",
                                        precisions: [.int8, .float32, .pq4, .pq8, .pq16], candidates: 100, directory: tmp + "/indexes")
        print(report.table)
        XCTAssertEqual(report.images, 20)
        XCTAssertEqual(report.queries, 100)
        // With K >= the collection, two-stage on float16 re-ranks every image: it is exact search.
        let f16 = try XCTUnwrap(report.rows.first { $0.precision == .float16 })
        XCTAssertEqual(f16.twoStage, report.exactFloat16)
        XCTAssertEqual(f16.overlapTop10, 100)
        // The original's evalrank t2i line for this case: "Text to image: 5.0 23.0 50.0" (exact SCAN).
        XCTAssertEqual(report.exactFloat16.r1, 5, accuracy: 1e-9)
        XCTAssertEqual(report.exactFloat16.r5, 23, accuracy: 1e-9)
        XCTAssertEqual(report.exactFloat16.r10, 50, accuracy: 1e-9)
        // Bytes: pq4 of 7 regions x 16 dims is 7 x 4 code bytes + the header.
        XCTAssertEqual(try XCTUnwrap(report.rows.first { $0.precision == .pq4 }).bytesPerImage, 32 + 28)
        XCTAssertEqual(try XCTUnwrap(report.rows.first { $0.precision == .pq8 }).paperBytesPerImage, 32 + 36 * 128)
    }
}
