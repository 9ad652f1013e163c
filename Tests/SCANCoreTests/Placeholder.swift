import XCTest
final class SCANCoreTestsPlaceholder: XCTestCase { func testNothing() {} }
