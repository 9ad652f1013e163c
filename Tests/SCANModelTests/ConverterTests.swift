import Foundation
import XCTest

/// Runs the Python tests of `Tools/convert_checkpoint.py` (the checkpoint converter needs PyTorch,
/// so it is Python; its tests are a standalone script). Skipped when the script reports that
/// torch is not installed or python3 is missing.
final class ConverterTests: XCTestCase {
    /// The package root: this file is `Tests/SCANModelTests/ConverterTests.swift`.
    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testConvertCheckpointScript() throws {
        let script = Self.packageRoot.appendingPathComponent("Tools/tests/test_convert_checkpoint.py")
        XCTAssertTrue(FileManager.default.fileExists(atPath: script.path), "missing \(script.path)")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        process.currentDirectoryURL = Self.packageRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Read to the end before waiting, so a full pipe cannot block the script.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        let lines = output.split(separator: "\n").map(String.init)

        if process.terminationStatus == 127 {
            throw XCTSkip("python3 is not installed (/usr/bin/env python3 exited with 127)")
        }
        if process.terminationStatus == 0, let skipped = lines.first(where: { $0.hasPrefix("skipped:") }) {
            throw XCTSkip(skipped)
        }
        guard process.terminationStatus == 0 else {
            XCTFail("python3 Tools/tests/test_convert_checkpoint.py exited with \(process.terminationStatus):\n\(output)")
            return
        }
        let summary = lines.last ?? ""
        XCTAssertTrue(summary.hasSuffix(" passed, 0 failed"), "unexpected summary line '\(summary)':\n\(output)")
    }
}
