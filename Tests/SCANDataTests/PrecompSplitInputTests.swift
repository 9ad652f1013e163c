import Foundation
import SCANCore
@testable import SCANData
import XCTest

/// Outside input of a precomp split that once trapped instead of ending in a typed error.
final class PrecompSplitInputTests: XCTestCase {
    /// A float16 npy of shape (2^61, 0, 0) holds no data, so its header is valid; comparing the caption
    /// count with images x 5 overflowed. It is a count mismatch naming both files.
    func testHugeImageCountWithEmptyRowsIsACountMismatch() throws {
        let dir = NSTemporaryDirectory() + "scan-precomp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(NPY.header(dtype: .float16, shape: [1 << 61, 0, 0])).write(to: URL(fileURLWithPath: dir + "/test_ims.npy"))
        try "a dog\na cat\na man\na bird\na tree\n".write(toFile: dir + "/test_caps.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PrecompSplit(folder: dir, split: "test")) { error in
            guard case let DatasetError.countMismatch(images, imageCount, captions, captionCount)? = error as? DatasetError else {
                return XCTFail("expected DatasetError.countMismatch, got \(error)")
            }
            XCTAssertTrue(images.hasSuffix("test_ims.npy") && captions.hasSuffix("test_caps.txt"))
            XCTAssertEqual(imageCount, 1 << 61)
            XCTAssertEqual(captionCount, 5)
        }
    }
}
