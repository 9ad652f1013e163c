import SCANCore
@testable import SCANIndex
import CZstd
import TestSupport
import XCTest

final class RecordCodecTests: XCTestCase {
    func testXXH64MatchesZstdAndKnownValues() {
        XCTAssertEqual(XXH64.hash([UInt8]()), 0xEF46_DB37_51D8_E999)
        // zstd's frame checksum is the low 32 bits of XXH64(content, seed 0): compare for many lengths.
        var rng = TestRNG(seed: 1)
        let cctx = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        for n in [1, 3, 4, 7, 8, 15, 31, 32, 33, 63, 64, 100, 1000, 4099] {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var frame = [UInt8](repeating: 0, count: ZSTD_compressBound(n) + 16)
            let size = bytes.withUnsafeBytes { s in frame.withUnsafeMutableBytes { ZSTD_compress2(cctx, $0.baseAddress!, $0.count, s.baseAddress!, n) } }
            XCTAssertEqual(ZSTD_isError(size), 0)
            let zstdSum = frame[(size - 4)..<size].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            XCTAssertEqual(UInt32(truncatingIfNeeded: XXH64.hash(bytes)), zstdSum, "length \(n)")
        }
        // A different seed gives a different hash.
        XCTAssertNotEqual(XXH64.hash([1, 2, 3], seed: 1), XXH64.hash([1, 2, 3]))
    }

    /// Values spanning many magnitudes, with zeros, negatives and a few float16 subnormals.
    private func sample(_ rows: Int, _ dim: Int, seed: UInt64) -> Tensor {
        var rng = TestRNG(seed: seed)
        var data = rng.floats(rows * dim)
        for i in 0..<data.count {
            switch i % 11 {
            case 3: data[i] = 0
            case 5: data[i] *= 1e-6  // below float16's normal range
            case 7: data[i] *= 300
            default: break
            }
        }
        return Tensor(shape: [rows, dim], data: data)
    }

    func testRoundTripAllPrecisions() throws {
        for precision in Precision.scalar {
            for level in [3, 0] {
                let codec = RecordCodec(precision: precision, compressionLevel: level)
                for (rows, dim) in [(1, 1), (1, 1024), (7, 5), (36, 1024), (100, 33)] {
                    let x = sample(rows, dim, seed: UInt64(rows * 1000 + dim))
                    let bytes = try codec.encodeRegions(x, record: "r")
                    let h = try bytes.withUnsafeBytes { try RecordCodec.header(of: $0) }
                    XCTAssertEqual(h.rows, rows)
                    XCTAssertEqual(h.dim, dim)
                    XCTAssertEqual(h.precision, precision)
                    XCTAssertEqual(bytes.count, RecordHeader.size + h.storedBytes)
                    if level == 0 { XCTAssertFalse(h.compressed) }
                    let y = try RecordCodec.decodeRegions(bytes, key: "r")
                    XCTAssertEqual(y.shape, [rows, dim])
                    switch precision {
                    case .float32:
                        XCTAssertEqual(x.data.map(\.bitPattern), y.data.map(\.bitPattern), "float32 must be bit exact")
                    case .float16:
                        for i in 0..<x.count {
                            let bound = max(abs(x.data[i]) * Float(pow(2.0, -11.0)), Float(pow(2.0, -25.0)))
                            XCTAssertLessThanOrEqual(abs(x.data[i] - y.data[i]), bound, "float16 value \(i) of \(rows)x\(dim)")
                        }
                    case .int8:
                        for r in 0..<rows {
                            let maxabs = (0..<dim).map { abs(x[r, $0]) }.max()!
                            let scale = maxabs / 127
                            for j in 0..<dim {
                                XCTAssertLessThanOrEqual(abs(x[r, j] - y[r, j]), scale / 2 * (1 + 1e-5) + 1e-12,
                                                         "int8 value (\(r), \(j)) of \(rows)x\(dim)")
                            }
                        }
                    case .pq4, .pq8, .pq16, .pq32:
                        XCTFail("not a scalar precision")
                    }
                }
            }
        }
    }

    func testInt8ZeroRowAndExactExtremes() throws {
        var x = Tensor(zeros: [3, 4])
        x.data = [0, 0, 0, 0, 1, -1, 0.5, 0, -2, 2, 1, -1]
        let y = try RecordCodec.decodeRegions(try RecordCodec(precision: .int8).encodeRegions(x))
        XCTAssertEqual(Array(y.data[0..<4]), [0, 0, 0, 0])
        XCTAssertEqual(y[1, 0], 1)
        XCTAssertEqual(y[1, 1], -1)
        XCTAssertEqual(y[2, 0], -2)
        XCTAssertEqual(y[2, 1], 2)
    }

    func testDecodeIntoCallerBuffer() throws {
        let x = sample(5, 8, seed: 9)
        let bytes = try RecordCodec(precision: .float32).encodeRegions(x)
        var buf = [Float](repeating: -7, count: 50)
        let h = try bytes.withUnsafeBytes { v in try buf.withUnsafeMutableBufferPointer { try RecordCodec.decode(v, into: $0) } }
        XCTAssertEqual(h.valueCount, 40)
        XCTAssertEqual(Array(buf[0..<40]), x.data)
        XCTAssertEqual(buf[40], -7, "nothing is written past rows x dim")
        var small = [Float](repeating: 0, count: 39)
        XCTAssertIndexError(try bytes.withUnsafeBytes { v in try small.withUnsafeMutableBufferPointer { try RecordCodec.decode(v, key: "k", into: $0) } }) {
            if case .bufferTooSmall(_, 40, 39) = $0 { return true }; return false
        }
    }

    func testVectorRoundTrip() throws {
        var rng = TestRNG(seed: 3)
        let v = rng.floats(1024)
        for p in Precision.scalar {
            let bytes = try RecordCodec(precision: p).encodeVector(v)
            XCTAssertLessThanOrEqual(bytes.count - RecordHeader.size, 4096 + 4)
            let w = try RecordCodec.decodeVector(bytes)
            XCTAssertEqual(w.count, v.count)
            let maxErr = zip(v, w).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(maxErr, p == .float32 ? 0 : p == .float16 ? 1e-3 : 1.0 / 254 + 1e-6)
            // A vector record is not a region record.
            XCTAssertIndexError(try RecordCodec.decodeRegions(bytes)) { if case .corruptRecord = $0 { return true }; return false }
        }
    }

    func testRejectsNonFiniteAndFloat16Overflow() {
        var x = Tensor(zeros: [2, 3])
        x[1, 2] = .nan
        for p in Precision.scalar {
            XCTAssertIndexError(try RecordCodec(precision: p).encodeRegions(x, record: "im")) {
                if case let .invalidRecord(record, field, _, _) = $0 { return record == "im" && field == "regions[5]" }; return false
            }
        }
        x[1, 2] = .infinity
        XCTAssertIndexError(try RecordCodec(precision: .int8).encodeRegions(x)) { if case .invalidRecord = $0 { return true }; return false }
        x[1, 2] = 70000
        XCTAssertIndexError(try RecordCodec(precision: .float16).encodeRegions(x)) { if case .invalidRecord = $0 { return true }; return false }
        XCTAssertNoThrow(try RecordCodec(precision: .float32).encodeRegions(x))
        XCTAssertIndexError(try RecordCodec().encodeVector([1, .nan])) { if case .invalidRecord = $0 { return true }; return false }
    }

    /// Every single flipped byte (two different flips per position) of small records is reported as corrupt.
    func testEveryFlippedByteIsDetected() throws {
        for p in Precision.scalar {
            for level in [3, 0] {
                let x = Tensor(shape: [3, 6], data: (0..<18).map { Float($0) / 7 - 1 })
                let bytes = try RecordCodec(precision: p, compressionLevel: level).encodeRegions(x)
                for pos in 0..<bytes.count {
                    for mask: UInt8 in [0x01, 0xFF] {
                        var bad = bytes
                        bad[pos] ^= mask
                        XCTAssertIndexError(try RecordCodec.decodeRegions(bad, key: "7"), "\(p) level \(level) byte \(pos)") {
                            if case let .corruptRecord(db, key, _) = $0 { return db == "regions" && key == "7" }; return false
                        }
                    }
                }
                // Truncated and extended values too.
                XCTAssertIndexError(try RecordCodec.decodeRegions(Array(bytes.dropLast()))) { if case .corruptRecord = $0 { return true }; return false }
                XCTAssertIndexError(try RecordCodec.decodeRegions(bytes + [0])) { if case .corruptRecord = $0 { return true }; return false }
            }
        }
    }

    func testFlippedBytesInCompressedRecord() throws {
        let x = sample(36, 1024, seed: 11)
        let bytes = try RecordCodec().encodeRegions(x)
        XCTAssertTrue(try bytes.withUnsafeBytes { try RecordCodec.header(of: $0) }.compressed)
        var rng = TestRNG(seed: 5)
        for _ in 0..<300 {
            var bad = bytes
            bad[rng.int(0..<bad.count)] ^= UInt8(1 << rng.int(0..<8))
            XCTAssertIndexError(try RecordCodec.decodeRegions(bad)) { if case .corruptRecord = $0 { return true }; return false }
        }
    }

    func testShuffleRoundTrip() {
        for width in [1, 2, 3, 4] {
            let n = 37
            let src = (0..<(n * width)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var shuffled = [UInt8](repeating: 0, count: src.count)
            var back = [UInt8](repeating: 0, count: src.count)
            src.withUnsafeBytes { s in shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(s.baseAddress!, into: $0.baseAddress!, count: n, width: width) } }
            XCTAssertEqual(shuffled[1], src[width])
            shuffled.withUnsafeBytes { s in back.withUnsafeMutableBytes { ByteShuffle.unshuffle(s.baseAddress!, into: $0.baseAddress!, count: n, width: width) } }
            XCTAssertEqual(back, src)
        }
    }
}
