import XCTest
final class SCANModelTestsPlaceholder: XCTestCase { func testNothing() {} }
