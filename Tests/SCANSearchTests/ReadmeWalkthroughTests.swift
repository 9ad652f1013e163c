import Foundation
import TestSupport
import XCTest

/// The README's walk-through from an original checkpoint to search results, pasted into a fresh
/// shell by `Tools/readme-walkthrough.sh` over a generated stand-in for the user's files.
final class ReadmeWalkthroughTests: XCTestCase {
    func testTheReadmeWalkthroughRunsAsWritten() throws {
        let bin = (try ToolRunner.path("scan-model") as NSString).deletingLastPathComponent
        let script = ReferenceFixtures.packageRoot.appendingPathComponent("Tools/readme-walkthrough.sh").path
        let (status, text) = try ToolRunner.runProgram("/bin/bash", [script, bin], environment: [
            "SCAN_REFERENCE_DIR": ReferenceFixtures.directory.path, "SCAN_KEEP_BLAS_KERNEL": "1"])
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("commands of the README ran in a fresh folder"), text)
    }
}
