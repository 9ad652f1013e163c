import Foundation
@testable import SCANIndex
import TestSupport
import XCTest

/// Replays the fuzz targets' committed seeds and regressions (Tools/fuzz) for the index side's parsers:
/// each input parses or ends in an `IndexError`, never a trap.
final class FuzzReplayTests: XCTestCase {
    var tmp: String!
    override func setUpWithError() throws {
        tmp = NSTemporaryDirectory() + "scan-fuzz-replay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: tmp) }

    /// The record target's input: the first byte says whether to patch in the right checksum.
    private func recordValue(_ input: FuzzInputs.Input) -> [UInt8] {
        guard let first = input.bytes.first else { return [] }
        var value = Array(input.bytes.dropFirst())
        if first & 1 == 1 && value.count >= RecordHeader.size {
            value.withUnsafeMutableBytes { v in
                v.storeBytes(of: RecordHeader.checksum(UnsafeRawBufferPointer(v)).littleEndian, toByteOffset: 24, as: UInt64.self)
            }
        }
        return value
    }

    func testRecordInputs() throws {
        var decoded = 0
        for input in try FuzzInputs.inputs("record") {
            let value = recordValue(input)
            let isVector = input.name.contains("vector")
            do {
                if isVector { _ = try RecordCodec.decodeVector(value) } else { _ = try RecordCodec.decodeRegions(value) }
                XCTAssertFalse(input.isRegression, "\(input.name) decoded")
                decoded += 1
            } catch let error as IndexError {
                guard case .corruptRecord = error else { return XCTFail("\(input.name): \(error)") }
            }
        }
        XCTAssertGreaterThan(decoded, 0, "no record seed decodes")
    }

    /// Regression: rows = dim = 2^32-1 made the payload size computation trap.
    func testRecordWithOverflowingShapeIsCorrupt() {
        var value = [UInt8](repeating: 0, count: RecordHeader.size)
        value.withUnsafeMutableBytes { v in
            v.storeBytes(of: UInt32(0x524E_4353).littleEndian, toByteOffset: 0, as: UInt32.self)
            v.storeBytes(of: UInt8(1), toByteOffset: 4, as: UInt8.self)
            v.storeBytes(of: UInt8(1), toByteOffset: 5, as: UInt8.self)
            v.storeBytes(of: UInt32.max, toByteOffset: 8, as: UInt32.self)
            v.storeBytes(of: UInt32.max, toByteOffset: 12, as: UInt32.self)
        }
        XCTAssertThrowsError(try RecordCodec.decodeRegions(value, key: "img-7")) { error in
            guard case let IndexError.corruptRecord(_, key, reason)? = error as? IndexError else {
                return XCTFail("expected IndexError.corruptRecord, got \(error)")
            }
            XCTAssertEqual(key, "img-7")
            XCTAssertTrue(reason.contains("4294967295"), reason)
        }
    }

    func testMetadataInputs() throws {
        var decoded = 0
        for input in try FuzzInputs.inputs("metadata") {
            guard let first = input.bytes.first else { continue }
            var value = Array(input.bytes.dropFirst())
            if first & 1 == 1 && value.count >= ImageMetadata.headerSize {
                value.withUnsafeMutableBytes { v in
                    let sum = XXH64.checksum(head: UnsafeRawBufferPointer(rebasing: v[0..<8]),
                                             body: UnsafeRawBufferPointer(rebasing: v[ImageMetadata.headerSize...]))
                    v.storeBytes(of: sum.littleEndian, toByteOffset: 8, as: UInt64.self)
                }
            }
            do {
                _ = try value.withUnsafeBytes { try ImageMetadata.decode($0, key: input.name) }
                XCTAssertFalse(input.isRegression, "\(input.name) decoded")
                decoded += 1
            } catch let error as IndexError {
                guard case .corruptRecord = error else { return XCTFail("\(input.name): \(error)") }
            }
        }
        XCTAssertGreaterThan(decoded, 0, "no metadata seed decodes")
    }

    func testManifestInputs() throws {
        var parsed = 0
        for input in try FuzzInputs.inputs("manifest") {
            do {
                let m = try input.bytes.withUnsafeBytes { try IndexManifest.decode($0, path: input.name) }
                XCTAssertFalse(input.isRegression, "\(input.name) parsed")
                XCTAssertEqual(try m.jsonBytes().withUnsafeBytes { try IndexManifest.decode($0, path: input.name) }, m)
                parsed += 1
            } catch is IndexError {}
        }
        XCTAssertGreaterThan(parsed, 0, "no manifest seed parses")
    }
}
