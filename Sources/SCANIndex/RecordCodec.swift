import CZstd
import Foundation
import SCANCore

/// Encodes one image's encoded regions (float32, rows x dim) or one prefilter vector into a
/// self-describing, checksummed byte value, and decodes it back into a caller's buffer.
///
/// A value is a `RecordHeader` (32 bytes) and a body. The payload is float16, int8 (a float32 scale
/// per row, then the int8 values), float32 or product-quantisation codes (one byte per sub-space
/// and row, decoded with the index's codebook); region payloads are byte-plane shuffled and
/// zstd-compressed (with zstd's content checksum) unless that does not make them smaller.
/// The header's 64-bit checksum (XXH64) covers the header and the stored body, so a flipped byte is
/// reported as `IndexError.corruptRecord` before anything is decompressed or returned.
public struct RecordCodec: Sendable {
    public var precision: Precision
    /// zstd level for region records; 0 stores them uncompressed.
    public var compressionLevel: Int
    /// The codebook of a product-quantised `precision`.
    public var codebook: ProductQuantizer?

    public init(precision: Precision = .float16, compressionLevel: Int = 3, codebook: ProductQuantizer? = nil) {
        self.precision = precision
        self.compressionLevel = compressionLevel
        self.codebook = codebook
    }

    /// The largest magnitude float16 represents.
    public static let float16Max: Float = 65504

    // MARK: Encoding

    /// Encodes `regions` (rank 2: rows x dim). `record` names it in errors.
    public func encodeRegions(_ regions: Tensor, record: String = "") throws -> [UInt8] {
        guard regions.rank == 2 else {
            throw IndexError.invalidRecord(record: record, field: "regions", expected: "rank 2 (regions x dim)", found: "shape \(regions.shape)")
        }
        return try regions.data.withUnsafeBufferPointer {
            try encodeRegions($0, rows: regions.shape[0], dim: regions.shape[1], record: record)
        }
    }

    /// Encodes `rows` x `dim` float32 values stored row-major in `values`.
    public func encodeRegions(_ values: UnsafeBufferPointer<Float>, rows: Int, dim: Int, record: String = "") throws -> [UInt8] {
        try encode(values, rows: rows, dim: dim, kind: .regions, level: compressionLevel, record: record)
    }

    /// Encodes one prefilter vector (never compressed: small vectors do not shrink).
    public func encodeVector(_ vector: [Float], record: String = "") throws -> [UInt8] {
        guard !precision.isProductQuantized else {
            throw IndexError.invalidRecord(record: record, field: "prefilter", expected: "a scalar precision (float16, int8, float32)", found: precision.rawValue)
        }
        return try vector.withUnsafeBufferPointer { try encode($0, rows: 1, dim: vector.count, kind: .vector, level: 0, record: record) }
    }

    /// Encodes a codebook's centroids (`rows` x `subDim` float32, uncompressed).
    func encodeCodebook(_ centroids: [Float], rows: Int, subDim: Int) throws -> [UInt8] {
        try centroids.withUnsafeBufferPointer { try encode($0, rows: rows, dim: subDim, kind: .codebook, level: 0, record: "codebook") }
    }

    private func encode(_ values: UnsafeBufferPointer<Float>, rows: Int, dim: Int, kind: RecordHeader.Kind,
                        level: Int, record: String) throws -> [UInt8] {
        let field = kind == .regions ? "regions" : kind == .vector ? "prefilter" : "codebook"
        guard precision.supports(dim: dim) else {
            throw IndexError.invalidRecord(record: record, field: field, expected: "a dim divisible by \(precision.subDim ?? 1) for \(precision.rawValue)", found: "\(dim)")
        }
        if precision.isProductQuantized && (codebook == nil || codebook!.dim != dim || codebook!.subDim != precision.subDim) {
            throw IndexError.invalidRecord(record: record, field: field, expected: "a \(precision.rawValue) codebook for dim \(dim)",
                                           found: codebook.map { "one of dim \($0.dim), sub_dim \($0.subDim)" } ?? "none")
        }
        guard rows >= 0, dim >= 0, values.count == rows * dim else {
            throw IndexError.invalidRecord(record: record, field: field, expected: "\(rows) x \(dim) = \(rows * dim) values", found: "\(values.count)")
        }
        guard rows <= Int(UInt32.max), dim <= Int(UInt32.max), precision.payloadBytes(rows: rows, dim: dim) <= Int(UInt32.max) else {
            throw IndexError.invalidRecord(record: record, field: field, expected: "fewer than 4 GiB of payload", found: "\(rows) x \(dim)")
        }
        try RecordCodec.checkValues(values, precision: precision, record: record, field: field)
        let n = rows * dim
        let payloadBytes = precision.payloadBytes(rows: rows, dim: dim)
        let prec = precision
        let pq = codebook
        return try CodecWorkspace.with { ws -> [UInt8] in
            // 1. The payload, in scratch A.
            let payload = ws.scratchA(payloadBytes)
            if let src = values.baseAddress, n > 0 {
                switch prec {
                case .float32:
                    memcpy(payload, src, n * 4)
                case .float16:
                    Half.fromFloat(src, payload.assumingMemoryBound(to: UInt16.self), count: n)
                case .int8:
                    RecordCodec.quantize(src, rows: rows, dim: dim, into: payload)
                case .pq4, .pq8, .pq16, .pq32:
                    pq!.encode(src, rows: rows, into: payload.assumingMemoryBound(to: UInt8.self))
                }
            }
            // 2. Optionally shuffle (scratch B) and compress straight into the output.
            let width = prec.bytesPerValue
            let bound = level > 0 ? ZSTD_compressBound(payloadBytes) : 0
            let capacity = RecordHeader.size + max(payloadBytes, bound)
            var failure: IndexError?
            var out = [UInt8](unsafeUninitializedCapacity: capacity) { buf, count in
                let base = UnsafeMutableRawPointer(buf.baseAddress!)
                let body = base + RecordHeader.size
                var header = RecordHeader(kind: kind, precision: prec, rows: rows, dim: dim, compressed: false,
                                          shuffled: false, payloadBytes: payloadBytes, storedBytes: payloadBytes)
                if level > 0 && payloadBytes > 0 {
                    var src = UnsafeRawPointer(payload)
                    if width > 1 {
                        let shuffled = ws.scratchB(payloadBytes)
                        ByteShuffle.shuffle(payload, into: shuffled, count: n, width: width)
                        src = UnsafeRawPointer(shuffled)
                    }
                    let cctx = ws.compressionContext()
                    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)
                    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, Int32(level))
                    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
                    let written = ZSTD_compress2(cctx, body, bound, src, payloadBytes)
                    if ZSTD_isError(written) != 0 {
                        failure = .invalidRecord(record: record, field: field, expected: "zstd compression",
                                                 found: String(cString: ZSTD_getErrorName(written)))
                    } else if written < payloadBytes && (!prec.isProductQuantized || n <= written * RecordHeader.maxZstdExpansion) {
                        header.compressed = true
                        header.shuffled = width > 1
                        header.storedBytes = written
                    }
                }
                if !header.compressed && payloadBytes > 0 { memcpy(body, payload, payloadBytes) }
                header.write(to: base)
                let value = UnsafeRawBufferPointer(start: base, count: RecordHeader.size + header.storedBytes)
                base.storeBytes(of: RecordHeader.checksum(value).littleEndian, toByteOffset: 24, as: UInt64.self)
                count = RecordHeader.size + header.storedBytes
            }
            if let failure { throw failure }
            if out.capacity > out.count + 4096 { out = Array(out) }  // do not keep zstd's bound slack alive
            return out
        }
    }

    /// Rejects NaN, infinities and (for float16) magnitudes float16 cannot hold.
    static func checkValues(_ values: UnsafeBufferPointer<Float>, precision: Precision, record: String, field: String) throws {
        guard let base = values.baseAddress, !values.isEmpty else { return }
        var maxMagnitude: UInt32 = 0
        for i in 0..<values.count { maxMagnitude = max(maxMagnitude, base[i].bitPattern & 0x7FFF_FFFF) }
        let limit: UInt32 = precision == .float16 ? RecordCodec.float16Max.bitPattern : 0x7F7F_FFFF
        guard maxMagnitude > limit else { return }
        for i in 0..<values.count where (base[i].bitPattern & 0x7FFF_FFFF) > limit {
            let v = values[i]
            let expected = v.isFinite ? "a magnitude <= \(RecordCodec.float16Max) (float16)" : "a finite value"
            throw IndexError.invalidRecord(record: record, field: "\(field)[\(i)]", expected: expected, found: "\(v)")
        }
    }

    /// Symmetric int8 per row: scale = max|x| / 127, q = round(x / scale); writes the scales then the values.
    static func quantize(_ src: UnsafePointer<Float>, rows: Int, dim: Int, into out: UnsafeMutableRawPointer) {
        let scales = out
        let q = (out + rows * 4).assumingMemoryBound(to: Int8.self)
        for r in 0..<rows {
            let row = src + r * dim
            var maxabs: Float = 0
            for j in 0..<dim { maxabs = max(maxabs, abs(row[j])) }
            let scale = maxabs / 127
            scales.storeBytes(of: scale.bitPattern.littleEndian, toByteOffset: r * 4, as: UInt32.self)
            let qrow = q + r * dim
            if maxabs == 0 {
                for j in 0..<dim { qrow[j] = 0 }
                continue
            }
            let inv = 127 / maxabs
            for j in 0..<dim {
                // Round half to even with the 1.5 * 2^23 trick (|x * inv| <= 127 + ulp): vectorises without SSE4.1.
                let t = (row[j] * inv + 12_582_912.0) - 12_582_912.0
                qrow[j] = Int8(max(-127, min(127, Int32(t))))
            }
        }
    }

    // MARK: Decoding

    /// Parses the header of a stored value without checking its checksum (e.g. to size a buffer).
    public static func header(of value: UnsafeRawBufferPointer, kind: RecordHeader.Kind = .regions,
                              database: String = "regions", key: String = "") throws -> RecordHeader {
        try RecordHeader.parse(value, kind: kind, database: database, key: key)
    }

    /// Checks `value`'s structure and checksum without decoding it (e.g. before copying it elsewhere).
    @discardableResult
    public static func check(_ value: UnsafeRawBufferPointer, kind: RecordHeader.Kind = .regions,
                             database: String = "regions", key: String = "") throws -> RecordHeader {
        let h = try RecordHeader.parse(value, kind: kind, database: database, key: key)
        try RecordHeader.verifyChecksum(value, database: database, key: key)
        return h
    }

    /// Checks `value` (structure and checksum) and decodes its rows x dim floats into `out`
    /// (which must hold at least rows x dim). Returns the header.
    @discardableResult
    /// A product-quantised record needs the index's `codebook`.
    public static func decode(_ value: UnsafeRawBufferPointer, kind: RecordHeader.Kind = .regions,
                              database: String = "regions", key: String = "",
                              into out: UnsafeMutableBufferPointer<Float>, codebook: ProductQuantizer? = nil) throws -> RecordHeader {
        let h = try RecordHeader.parse(value, kind: kind, database: database, key: key)
        try RecordHeader.verifyChecksum(value, database: database, key: key)
        let n = h.valueCount
        guard out.count >= n else { throw IndexError.bufferTooSmall(record: key, needed: n, available: out.count) }
        guard n > 0, let dst = out.baseAddress else { return h }
        if let d = h.precision.subDim {
            guard let cb = codebook else { throw corruptNoCodebook(h, database: database, key: key) }
            guard cb.dim == h.dim, cb.subDim == d else {
                throw IndexError.corruptRecord(database: database, key: key,
                                               reason: "\(h.precision.rawValue) record of dim \(h.dim), the codebook has dim \(cb.dim), sub_dim \(cb.subDim)")
            }
        }
        let body = value.baseAddress! + RecordHeader.size
        // A plain aligned float16 record (every prefilter vector) needs no workspace: the first stage
        // rescores hundreds of them per query, and the pool's lock was a fair part of each.
        if h.precision == .float16, !h.compressed, !h.shuffled, Int(bitPattern: body) % 2 == 0 {
            Half.toFloat(body.assumingMemoryBound(to: UInt16.self), dst, count: n)
            return h
        }
        func corrupt(_ reason: String) -> IndexError { .corruptRecord(database: database, key: key, reason: reason) }
        try CodecWorkspace.with { ws in
            var payload = body
            if h.compressed {
                let buf = ws.scratchA(h.payloadBytes)
                let got = ZSTD_decompressDCtx(ws.decompressionContext(), buf, h.payloadBytes, body, h.storedBytes)
                if ZSTD_isError(got) != 0 { throw corrupt("zstd: \(String(cString: ZSTD_getErrorName(got)))") }
                guard got == h.payloadBytes else { throw corrupt("zstd produced \(got) bytes, header says \(h.payloadBytes)") }
                payload = UnsafeRawPointer(buf)
            }
            switch h.precision {
            case .float32:
                if h.shuffled {
                    ByteShuffle.unshuffle(payload, into: UnsafeMutableRawPointer(dst), count: n, width: 4)
                } else {
                    memcpy(dst, payload, n * 4)
                }
            case .float16:
                var halves = payload
                if h.shuffled {
                    let b = ws.scratchB(n * 2)
                    ByteShuffle.unshuffle(payload, into: b, count: n, width: 2)
                    halves = UnsafeRawPointer(b)
                } else if Int(bitPattern: payload) % 2 != 0 {
                    let b = ws.scratchB(n * 2)
                    memcpy(b, payload, n * 2)
                    halves = UnsafeRawPointer(b)
                }
                Half.toFloat(halves.assumingMemoryBound(to: UInt16.self), dst, count: n)
            case .int8:
                if h.shuffled { throw corrupt("int8 records are never shuffled") }
                let q = (payload + h.rows * 4).assumingMemoryBound(to: Int8.self)
                for r in 0..<h.rows {
                    let scale = Float(bitPattern: UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: r * 4, as: UInt32.self)))
                    let qrow = q + r * h.dim
                    let orow = dst + r * h.dim
                    for j in 0..<h.dim { orow[j] = Float(qrow[j]) * scale }
                }
            case .pq4, .pq8, .pq16, .pq32:
                if h.shuffled { throw corrupt("product-quantised records are never shuffled") }
                guard codebook!.decode(payload.assumingMemoryBound(to: UInt8.self), rows: h.rows, into: dst) else {
                    throw corrupt("a code is beyond the codebook's \(codebook!.centroidCount) centroids")
                }
            }
        }
        return h
    }

    private static func corruptNoCodebook(_ h: RecordHeader, database: String, key: String) -> IndexError {
        .corruptRecord(database: database, key: key, reason: "\(h.precision.rawValue) record, but the index has no codebook")
    }

    /// Decodes a region record into a new rows x dim tensor.
    public static func decodeRegions(_ value: [UInt8], database: String = "regions", key: String = "",
                                     codebook: ProductQuantizer? = nil) throws -> Tensor {
        try value.withUnsafeBytes { v in
            let h = try header(of: v, kind: .regions, database: database, key: key)
            var out = Tensor(zeros: [h.rows, h.dim])
            try out.data.withUnsafeMutableBufferPointer { _ = try decode(v, kind: .regions, database: database, key: key, into: $0, codebook: codebook) }
            return out
        }
    }

    /// Decodes a prefilter vector record.
    public static func decodeVector(_ value: UnsafeRawBufferPointer, database: String = "prefilter", key: String = "") throws -> [Float] {
        let h = try header(of: value, kind: .vector, database: database, key: key)
        var out = [Float](repeating: 0, count: h.valueCount)
        try out.withUnsafeMutableBufferPointer { _ = try decode(value, kind: .vector, database: database, key: key, into: $0) }
        return out
    }

    public static func decodeVector(_ value: [UInt8], database: String = "prefilter", key: String = "") throws -> [Float] {
        try value.withUnsafeBytes { try decodeVector($0, database: database, key: key) }
    }
}
