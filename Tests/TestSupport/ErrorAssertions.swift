import XCTest

/// Asserts that `body` throws an error of type `E` for which `matches` holds.
public func XCTAssertThrows<E: Error, T>(_ type: E.Type, _ body: @autoclosure () throws -> T, _ message: String = "",
                                         file: StaticString = #filePath, line: UInt = #line, _ matches: (E) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected a \(E.self), nothing was thrown. \(message)", file: file, line: line)
    } catch let e as E {
        XCTAssertTrue(matches(e), "unexpected error: \(e). \(message)", file: file, line: line)
    } catch {
        XCTFail("expected a \(E.self), got \(error). \(message)", file: file, line: line)
    }
}
