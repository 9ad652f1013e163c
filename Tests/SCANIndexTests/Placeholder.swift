import XCTest
final class SCANIndexTestsPlaceholder: XCTestCase { func testNothing() {} }
