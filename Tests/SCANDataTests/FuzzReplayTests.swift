import Foundation
@testable import SCANData
import TestSupport
import XCTest

/// Replays the fuzz targets' committed seeds and regressions (Tools/fuzz) for the dataset side's parsers:
/// each input parses or ends in a `DatasetError`, never a trap.
final class FuzzReplayTests: XCTestCase {
    var tmp: String!
    override func setUpWithError() throws { tmp = makeTempDir(self, "scan-fuzz-replay") }

    func testTSVInputs() throws {
        var parsed = 0
        for input in try FuzzInputs.inputs("tsv") {
            let path = tmp + "/features.tsv"
            try Data(input.bytes).write(to: URL(fileURLWithPath: path))
            do {
                let source = try TSVFeatureSource(path: path)
                for i in 0..<source.count { _ = try source.item(at: i) }
                XCTAssertFalse(input.isRegression, "\(input.name) parsed")
                parsed += 1
            } catch is DatasetError {}
        }
        XCTAssertGreaterThan(parsed, 0, "no TSV seed parses")
    }

    func testCaptionInputsThroughTheCaptionReader() throws {
        for input in try FuzzInputs.inputs("captions") {
            let path = tmp + "/test_caps.txt"
            try Data(input.bytes).write(to: URL(fileURLWithPath: path))
            do { _ = try CaptionFile.read(path) } catch is DatasetError {}
        }
    }
}
