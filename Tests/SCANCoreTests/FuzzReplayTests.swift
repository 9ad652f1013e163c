import Foundation
@testable import SCANCore
import TestSupport
import XCTest

/// Replays the fuzz targets' committed seeds and regressions (Tools/fuzz) through the same entry points
/// the targets call: each input parses or ends in a `FormatError`, never a trap.
final class FuzzReplayTests: XCTestCase {
    func testNPYHeaderInputs() throws {
        let inputs = try FuzzInputs.inputs("npy")
        var parsed = 0
        for input in inputs {
            do {
                let layout = try input.bytes.withUnsafeBytes { try NPYArray.parseHeader($0, file: input.name) }
                XCTAssertFalse(input.isRegression, "\(input.name) parsed as \(layout.shape)")
                parsed += 1
            } catch let error as FormatError {
                XCTAssertTrue("\(error)".contains(input.name), "\(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0, "no npy seed parses")
    }

    func testSafetensorsInputs() throws {
        var parsed = 0
        for input in try FuzzInputs.inputs("safetensors") {
            do {
                let file = try input.bytes.withUnsafeBytes { try SafetensorsFile(path: input.name, bytes: $0) }
                XCTAssertFalse(input.isRegression, "\(input.name) parsed")
                for name in file.names { _ = try? file.tensor(name); _ = try? file.doubles(name) }
                parsed += 1
            } catch let error as FormatError {
                XCTAssertTrue("\(error)".contains(input.name), "\(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0, "no safetensors seed parses")
    }

    /// The npy header of issue 10 that crashed `scan-index build` with SIGILL (a Swift overflow trap):
    /// 4611686018427387904 x 36 x 2048 x 4 bytes overflows. It is refused naming the file and the field.
    func testNPYShapeProductOverflowIsATypedError() throws {
        let dir = NSTemporaryDirectory() + "scan-npy-overflow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 36, 2048), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        let path = dir + "/test_ims.npy"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try NPYArray(path: path)) { error in
            guard case let FormatError.invalidValue(file, field, reason)? = error as? FormatError else {
                return XCTFail("expected FormatError.invalidValue, got \(error)")
            }
            XCTAssertEqual(file, path)
            XCTAssertEqual(field, "shape")
            XCTAssertTrue(reason.contains("4611686018427387904") && reason.contains("overflow"), reason)
        }
    }
}
