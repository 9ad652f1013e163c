import Foundation
import TestSupport
import XCTest

/// The README's walk-through from an original checkpoint to search results, pasted into a fresh
/// shell by `Tools/readme-walkthrough.sh` over a generated stand-in for the user's files.
final class ReadmeWalkthroughTests: XCTestCase {
    func testTheReadmeWalkthroughRunsAsWritten() throws {
        let bin = (try ToolRunner.path("scan-model") as NSString).deletingLastPathComponent
        let script = ReferenceFixtures.packageRoot.appendingPathComponent("Tools/readme-walkthrough.sh").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, bin]
        var env = ProcessInfo.processInfo.environment
        env["SCAN_REFERENCE_DIR"] = ReferenceFixtures.directory.path
        env["SCAN_KEEP_BLAS_KERNEL"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("commands of the README ran in a fresh folder"), text)
    }
}
