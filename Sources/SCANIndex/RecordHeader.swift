/// The fixed 32-byte header in front of every stored region record and prefilter vector.
///
/// Layout (little endian): magic (4: "SCNR" regions, "SCNV" vector, "SCNQ" codebook), version u8 = 1, precision u8,
/// flags u8 (bit 0 zstd, bit 1 byte-plane shuffled), reserved u8 = 0, rows u32, dim u32,
/// payload bytes u32 (uncompressed), stored bytes u32 (the body after the header),
/// checksum u64 = XXH64(body, seed: XXH64(header bytes 0..<24)).
public struct RecordHeader: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regions, vector
        /// An index's product-quantisation codebook (float32 centroids).
        case codebook

        var magic: UInt32 {
            switch self {
            case .regions: return 0x524E_4353  // "SCNR" little endian
            case .vector: return 0x564E_4353   // "SCNV"
            case .codebook: return 0x514E_4353 // "SCNQ"
            }
        }
    }

    public static let size = 32
    public static let version: UInt8 = 1
    static let flagCompressed: UInt8 = 1
    static let flagShuffled: UInt8 = 2
    static let maxZstdExpansion = 32768

    public var kind: Kind
    public var precision: Precision
    public var rows: Int
    public var dim: Int
    public var compressed: Bool
    public var shuffled: Bool
    public var payloadBytes: Int
    public var storedBytes: Int

    /// rows x dim.
    public var valueCount: Int { rows * dim }

    func write(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: kind.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: RecordHeader.version, toByteOffset: 4, as: UInt8.self)
        p.storeBytes(of: precision.code, toByteOffset: 5, as: UInt8.self)
        let flags = (compressed ? RecordHeader.flagCompressed : 0) | (shuffled ? RecordHeader.flagShuffled : 0)
        p.storeBytes(of: flags, toByteOffset: 6, as: UInt8.self)
        p.storeBytes(of: UInt8(0), toByteOffset: 7, as: UInt8.self)
        p.storeBytes(of: UInt32(rows).littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: UInt32(dim).littleEndian, toByteOffset: 12, as: UInt32.self)
        p.storeBytes(of: UInt32(payloadBytes).littleEndian, toByteOffset: 16, as: UInt32.self)
        p.storeBytes(of: UInt32(storedBytes).littleEndian, toByteOffset: 20, as: UInt32.self)
    }

    /// Parses and checks the header of `value` (structure only; the checksum is checked by `verifyChecksum`).
    static func parse(_ value: UnsafeRawBufferPointer, kind: Kind, database: String, key: String) throws -> RecordHeader {
        func corrupt(_ reason: String) -> IndexError { .corruptRecord(database: database, key: key, reason: reason) }
        guard value.count >= size, let p = value.baseAddress else {
            throw corrupt("value is \(value.count) bytes, shorter than the \(size)-byte header")
        }
        let magic = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard magic == kind.magic else {
            throw corrupt("bad magic 0x\(String(magic, radix: 16)), expected 0x\(String(kind.magic, radix: 16))")
        }
        let version = p.load(fromByteOffset: 4, as: UInt8.self)
        guard version == RecordHeader.version else { throw corrupt("record version \(version), expected \(RecordHeader.version)") }
        let pcode = p.load(fromByteOffset: 5, as: UInt8.self)
        guard let precision = Precision(code: pcode) else { throw corrupt("unknown precision code \(pcode)") }
        let flags = p.load(fromByteOffset: 6, as: UInt8.self)
        guard flags & ~(flagCompressed | flagShuffled) == 0, p.load(fromByteOffset: 7, as: UInt8.self) == 0 else {
            throw corrupt("unknown flags 0x\(String(flags, radix: 16))")
        }
        let rows = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        let dim = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        let payload = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        let stored = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 20, as: UInt32.self)))
        let h = RecordHeader(kind: kind, precision: precision, rows: rows, dim: dim,
                             compressed: flags & flagCompressed != 0, shuffled: flags & flagShuffled != 0,
                             payloadBytes: payload, storedBytes: stored)
        guard stored == value.count - size else {
            throw corrupt("header says \(stored) stored bytes, value holds \(value.count - size)")
        }
        guard precision.supports(dim: dim), kind == .regions || !precision.isProductQuantized else {
            throw corrupt("precision \(precision.rawValue) cannot store \(kind) rows of dim \(dim)")
        }
        // rows and dim come from the value: their product (times the value size) may overflow an Int,
        // which `payloadBytes` would trap on. A value that large cannot be stored (payload is a u32).
        let (count, countOverflow) = rows.multipliedReportingOverflow(by: dim)
        let (valueBytes, bytesOverflow) = count.multipliedReportingOverflow(by: precision.bytesPerValue)
        guard !countOverflow, !bytesOverflow, valueBytes <= Int(UInt32.max) else {
            throw corrupt("header says \(rows) x \(dim) \(precision.rawValue) values, more than a record can hold")
        }
        let expected = precision.payloadBytes(rows: rows, dim: dim)
        guard payload == expected else {
            throw corrupt("header says \(payload) payload bytes, \(rows) x \(dim) \(precision.rawValue) needs \(expected)")
        }
        guard h.compressed || stored == payload else {
            throw corrupt("uncompressed record stores \(stored) bytes for a \(payload)-byte payload")
        }
        // A zstd block takes at least 4 bytes (3 of header, 1 of RLE content) and holds at most 128 KiB,
        // so no frame expands more than 32768-fold. A header claiming more is corrupt: refused here,
        // before a reader sizes a buffer from it (a 60-byte value could otherwise ask for gigabytes).
        guard !h.compressed || payload <= stored * maxZstdExpansion else {
            throw corrupt("compressed record of \(stored) bytes claims a \(payload)-byte payload (zstd expands at most \(maxZstdExpansion)-fold)")
        }
        // A product-quantised payload byte decodes to sub_dim floats: a reader's buffer grows with the
        // values, so they too are bounded by the stored bytes (the writer stores a record uncompressed
        // rather than past this bound, see RecordCodec.encode).
        guard !h.compressed || !precision.isProductQuantized || count <= stored * maxZstdExpansion else {
            throw corrupt("compressed \(precision.rawValue) record of \(stored) bytes claims \(rows) x \(dim) values (at most \(maxZstdExpansion) per stored byte)")
        }
        return h
    }

    /// Checks the checksum of `value` (header bytes 0..<24, then the body).
    static func verifyChecksum(_ value: UnsafeRawBufferPointer, database: String, key: String) throws {
        let stored = UInt64(littleEndian: value.baseAddress!.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        let computed = checksum(value)
        guard stored == computed else {
            throw IndexError.corruptRecord(database: database, key: key,
                                           reason: "checksum mismatch: stored \(String(stored, radix: 16)), computed \(String(computed, radix: 16))")
        }
    }

    static func checksum(_ value: UnsafeRawBufferPointer) -> UInt64 {
        XXH64.checksum(head: UnsafeRawBufferPointer(rebasing: value[0..<24]), body: UnsafeRawBufferPointer(rebasing: value[size...]))
    }
}
