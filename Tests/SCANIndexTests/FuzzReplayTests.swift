import Foundation
import SCANCore
@testable import SCANIndex
import TestSupport
import XCTest

/// Replays the fuzz targets' committed seeds and regressions (Tools/fuzz) for the index side's parsers:
/// each input parses or ends in an `IndexError`, never a trap.
final class FuzzReplayTests: XCTestCase {
    var tmp: String!
    override func setUpWithError() throws { tmp = makeTempDir(self, "scan-fuzz-replay") }

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

    /// The pqrecord and codebook targets' codebooks and embed_dims (Tools/fuzz/targets/pqrecord.swift,
    /// codebook.swift; the same formula as there).
    private func fuzzCodebook(_ choice: Int) throws -> ProductQuantizer {
        let (dim, sub, n) = [(16, 4, 256), (16, 8, 256), (16, 4, 3), (64, 16, 17)][choice & 3]
        return try ProductQuantizer(dim: dim, subDim: sub, centroidCount: n, centroids: (0..<(dim * n)).map { Float(($0 * 37) % 101) / 50 - 1 })
    }
    private let codebookDims = [16, 4, 8, 12, 64, 1024, 1, 3, 32, 96, 1 << 20, 1 << 32, 1 << 40, Int.max / 2, Int.max, 2048]

    func testPQRecordInputs() throws {
        var decoded = 0
        for input in try FuzzInputs.inputs("pqrecord") {
            guard let first = input.bytes.first else { continue }
            let value = recordValue(input)
            do {
                _ = try RecordCodec.decodeRegions(value, key: input.name, codebook: try fuzzCodebook(Int(first >> 1)))
                XCTAssertFalse(input.isRegression, "\(input.name) decoded")
                decoded += 1
            } catch let error as IndexError {
                guard case .corruptRecord = error else { return XCTFail("\(input.name): \(error)") }
            }
        }
        XCTAssertGreaterThan(decoded, 0, "no pq record seed decodes")
    }

    func testCodebookInputs() throws {
        var parsed = 0
        for input in try FuzzInputs.inputs("codebook") where input.bytes.count >= 2 {
            var value = Array(input.bytes.dropFirst(2))
            if input.bytes[0] & 1 == 1 && value.count >= RecordHeader.size {
                value.withUnsafeMutableBytes { v in
                    v.storeBytes(of: RecordHeader.checksum(UnsafeRawBufferPointer(v)).littleEndian, toByteOffset: 24, as: UInt64.self)
                }
            }
            let dim = codebookDims[Int(input.bytes[1]) % codebookDims.count]
            do {
                let pq = try value.withUnsafeBytes { try ProductQuantizer.decode($0, dim: dim, database: "manifest", key: input.name) }
                XCTAssertFalse(input.isRegression, "\(input.name) parsed")
                XCTAssertEqual(try pq.record(), value, input.name)
                parsed += 1
            } catch let error as IndexError {
                guard case .corruptRecord = error else { return XCTFail("\(input.name): \(error)") }
            }
        }
        XCTAssertGreaterThan(parsed, 0, "no codebook seed parses")
    }

    /// A compressed pq record's header may not claim more values than its stored bytes could hold
    /// (each payload byte decodes to sub_dim floats: a reader would size its buffer from the claim).
    func testCompressedPQRecordClaimingTooManyValuesIsCorrupt() throws {
        // 64 stored bytes claiming 2^19 rows of 64 dims in pq16: a 2 MiB payload (within zstd's
        // 32768-fold expansion) but 128 MiB of floats (16 per payload byte).
        var value = [UInt8](repeating: 0, count: RecordHeader.size + 64)
        value.withUnsafeMutableBytes { v in
            v.storeBytes(of: UInt32(0x524E_4353).littleEndian, toByteOffset: 0, as: UInt32.self)
            v.storeBytes(of: UInt8(1), toByteOffset: 4, as: UInt8.self)
            v.storeBytes(of: Precision.pq16.code, toByteOffset: 5, as: UInt8.self)
            v.storeBytes(of: UInt8(1), toByteOffset: 6, as: UInt8.self)
            v.storeBytes(of: UInt32(1 << 19).littleEndian, toByteOffset: 8, as: UInt32.self)
            v.storeBytes(of: UInt32(64).littleEndian, toByteOffset: 12, as: UInt32.self)
            v.storeBytes(of: UInt32(2 << 20).littleEndian, toByteOffset: 16, as: UInt32.self)
            v.storeBytes(of: UInt32(64).littleEndian, toByteOffset: 20, as: UInt32.self)
        }
        XCTAssertThrowsError(try RecordCodec.decodeRegions(value, key: "img-9", codebook: try fuzzCodebook(3))) { error in
            guard case let IndexError.corruptRecord(_, key, reason)? = error as? IndexError else {
                return XCTFail("expected IndexError.corruptRecord, got \(error)")
            }
            XCTAssertEqual(key, "img-9")
            XCTAssertTrue(reason.contains("524288 x 64"), reason)
        }
    }

    /// The writer's side of that bound: 131072 equal pq32 rows compress about 30,000-fold in bytes but
    /// a million-fold in values, so the record is stored uncompressed, and it reads back.
    func testPQRecordThatWouldCompressPastTheBoundIsStoredUncompressed() throws {
        let rows = 131_072, dim = 32
        let pq = try ProductQuantizer(dim: dim, subDim: 32, centroidCount: 1, centroids: [Float](repeating: 0.5, count: dim))
        let codec = RecordCodec(precision: .pq32, compressionLevel: 3, codebook: pq)
        let bytes = try codec.encodeRegions(Tensor(shape: [rows, dim], data: [Float](repeating: 0.25, count: rows * dim)))
        let h = try bytes.withUnsafeBytes { try RecordCodec.header(of: $0) }
        XCTAssertFalse(h.compressed)
        XCTAssertEqual(h.storedBytes, rows)
        let back = try RecordCodec.decodeRegions(bytes, codebook: pq)
        XCTAssertEqual(back.shape, [rows, dim])
        XCTAssertEqual(Set(back.data), [0.5])
        // A few equal rows still compress (well within the bound).
        let small = try codec.encodeRegions(Tensor(shape: [400, dim], data: [Float](repeating: 0.25, count: 400 * dim)))
        XCTAssertTrue(try small.withUnsafeBytes { try RecordCodec.header(of: $0) }.compressed)
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
