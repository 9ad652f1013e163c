import Foundation
import SCANCore
@testable import SCANData
import TestSupport
import XCTest

/// `scan-data convert` (the original's util/convert_data.py) on TSVs the test writes, with values
/// known in advance: the expected array is built by hand from the list's order.
final class PrecompConverterTests: XCTestCase {
    /// Image `id`'s features: value = id * 1000 + box * 10 + column, so every element is identifiable.
    func features(_ id: Int, boxes: Int, dim: Int) -> [Float] {
        (0..<(boxes * dim)).map { Float(id * 1000 + ($0 / dim) * 10 + $0 % dim) }
    }

    func base64(_ floats: [Float]) -> String {
        floats.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    func tsvLine(_ id: Int, boxes: Int = 3, dim: Int = 4, features f: [Float]? = nil) -> String {
        let boxValues = (0..<(boxes * 4)).map { Float($0) }
        return "\(id)\t640\t480\t\(boxes)\t\(base64(boxValues))\t\(base64(f ?? features(id, boxes: boxes, dim: dim)))"
    }

    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    func testConvertsInListOrderWithRepeatsLikeTheOriginal() throws {
        let dir = makeTempDir(self)
        // TSV order 30, 10, 99 (not listed), 20; the list asks 20, 10, 30, 10.
        try write([tsvLine(30), tsvLine(10), tsvLine(99), tsvLine(20)].joined(separator: "\n") + "\n", dir + "/feat.tsv")
        try write("20\n10\n30\n10\n", dir + "/test_list.txt")
        var c = PrecompConverter(imageIDList: dir + "/test_list.txt", inputFile: dir + "/feat.tsv", outputDirectory: dir + "/out", split: "test")
        c.showProgress = false
        let report = try c.run()
        XCTAssertEqual(report.shape, [4, 3, 4])
        XCTAssertEqual(report.unlistedRows, 1)
        let npy = try NPYArray(path: dir + "/out/test_ims.npy")
        XCTAssertEqual(npy.shape, [4, 3, 4])
        XCTAssertEqual(npy.dtype, .float32)
        let expected = [20, 10, 30, 10].flatMap { features($0, boxes: 3, dim: 4) }
        XCTAssertEqual(try npy.floats(), expected)
        XCTAssertEqual(try String(contentsOfFile: dir + "/out/test_ids.txt", encoding: .utf8), "20\n10\n30\n10\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/test_ims.npy.partial"))
    }

    func testBadInputIsAnErrorNamingTheLineAndLeavesNoOutput() throws {
        let dir = makeTempDir(self)
        try write("1\n2\n", dir + "/list.txt")
        func convert(_ tsv: String) throws {
            try write(tsv, dir + "/in.tsv")
            var c = PrecompConverter(imageIDList: dir + "/list.txt", inputFile: dir + "/in.tsv", outputDirectory: dir + "/out", split: "dev")
            c.showProgress = false
            _ = try c.run()
        }
        func expect(_ tsv: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try convert(tsv), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)", file: file, line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/dev_ims.npy"), file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/dev_ims.npy.partial"), file: file, line: line)
        }
        // An id of the list missing from the TSV (the original crashes in np.stack).
        expect(tsvLine(1) + "\n", "have no row in the TSV: 2")
        // A row whose num_boxes differs from the first listed row's.
        expect(tsvLine(1) + "\n" + tsvLine(2, boxes: 5) + "\n", "line 2 (image 2)")
        // A row whose feature size differs.
        expect(tsvLine(1) + "\n" + tsvLine(2, dim: 6) + "\n", "(3, 4) as the first listed image")
        // Broken base64.
        var broken = tsvLine(2)
        broken.replaceSubrange(broken.index(broken.endIndex, offsetBy: -6)..<broken.index(broken.endIndex, offsetBy: -5), with: "*")
        expect(tsvLine(1) + "\n" + broken + "\n", "line 2: image 2: features: invalid base64")
        // A truncated last line.
        let full = tsvLine(2)
        expect(tsvLine(1) + "\n" + String(full.prefix(full.count - 7)), "truncated file?")
        // Too few fields.
        expect(tsvLine(1) + "\n2\t640\t480\n", "line 2: expected 6 tab-separated fields")
    }

    /// The CLI: the original's flag names and its closing line.
    func testScanDataConvertTool() throws {
        let dir = makeTempDir(self)
        try write([tsvLine(7), tsvLine(8)].joined(separator: "\n") + "\n", dir + "/f.tsv")
        try write("8\n7\n", dir + "/ids.txt")
        let r = try ToolRunner.run("scan-data", ["convert", "--imgid_list", dir + "/ids.txt", "--input_file", dir + "/f.tsv",
                                                 "--output_dir", dir + "/out", "--split", "test"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("Final numpy array shape: (2, 3, 4)"), r.stdout)
        XCTAssertEqual(try NPYArray(path: dir + "/out/test_ims.npy").floats(), features(8, boxes: 3, dim: 4) + features(7, boxes: 3, dim: 4))
        let bad = try ToolRunner.run("scan-data", ["convert", "--imgid_list", dir + "/nope.txt", "--input_file", dir + "/f.tsv", "--output_dir", dir])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--imgid_list"), bad.stderr)
    }
}
