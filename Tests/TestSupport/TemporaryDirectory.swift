import Foundation
import XCTest

/// A fresh temporary directory, removed when the test ends.
public func makeTempDir(_ test: XCTestCase, _ name: String = "scan-test") -> String {
    let dir = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}
