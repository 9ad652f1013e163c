import XCTest
final class SCANTrainingTestsPlaceholder: XCTestCase { func testNothing() {} }
