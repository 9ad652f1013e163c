import Foundation
import SCANData
import TestSupport
import XCTest

/// Where the split files are: data_path/data_name, or data_path itself; a typo is an error that names
/// the folder asked for and the *_precomp folders that exist (it never falls back silently).
final class PrecompLayoutTests: XCTestCase {
    func testFolderRulesAndTheTypoError() throws {
        let root = makeTempDir(self)
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/f30k_precomp", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/coco_precomp", withIntermediateDirectories: true)
        try "a\n".write(toFile: root + "/f30k_precomp/test_caps.txt", atomically: true, encoding: .utf8)
        // Root + data_name, as the original.
        XCTAssertEqual(try PrecompLayout.folder(dataPath: root, dataName: "f30k_precomp"), root + "/f30k_precomp")
        // The folder itself, with or without its name as data_name.
        XCTAssertEqual(try PrecompLayout.folder(dataPath: root + "/f30k_precomp", dataName: "f30k_precomp"), root + "/f30k_precomp")
        XCTAssertEqual(try PrecompLayout.folder(dataPath: root + "/f30k_precomp", dataName: "precomp"), root + "/f30k_precomp")
        XCTAssertEqual(try PrecompLayout.folder(dataPath: root + "/f30k_precomp", dataName: nil), root + "/f30k_precomp")
        // A typo: the folder asked for is named, with the ones that exist.
        XCTAssertThrowsError(try PrecompLayout.folder(dataPath: root, dataName: "f30k")) { error in
            XCTAssertEqual(error as? DatasetError, .missingFolder(path: root + "/f30k", dataName: "f30k", available: ["coco_precomp", "f30k_precomp"]))
            XCTAssertEqual("\(error)", "\(root)/f30k: no such folder (data_name f30k); folders there: coco_precomp, f30k_precomp")
        }
    }

    func testScanEvalNamesTheFolderOfAMistypedDataName() throws {
        let root = makeTempDir(self)
        try FileManager.default.createDirectory(atPath: root + "/data/f30k_precomp", withIntermediateDirectories: true)
        let r = try ToolRunner.run("scan-eval", ["--model", root + "/model", "--data_path", root + "/data", "--data_name", "f30k"], in: root)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("data/f30k: no such folder (data_name f30k); folders there: f30k_precomp"), r.stderr)
    }
}
