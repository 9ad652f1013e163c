/// A bounds-checked cursor over a checkpoint's bytes: every read checks the remaining length first
/// and reports a truncation naming what it was reading.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    let file: String

    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        guard n >= 0, offset >= 0, offset <= bytes.count, n <= bytes.count - offset else {
            throw CheckpointError.truncated(file: file, what: what, offset: offset, needed: n, available: max(0, bytes.count - offset))
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
    }

    mutating func byte(_ what: String) throws -> UInt8 { try take(1, what)[0] }

    mutating func uint(_ n: Int, _ what: String) throws -> UInt64 {
        let b = try take(n, what)
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(b[k]) << (8 * UInt64(k)) }
        return v
    }

    mutating func uintBigEndian(_ n: Int, _ what: String) throws -> UInt64 {
        let b = try take(n, what)
        var v: UInt64 = 0
        for k in 0..<n { v = (v << 8) | UInt64(b[k]) }
        return v
    }

    /// An unsigned little-endian length that must fit in the bytes that remain.
    mutating func length(_ n: Int, _ what: String) throws -> Int {
        let at = offset
        let v = try uint(n, what)
        guard v <= UInt64(remaining) else {
            throw CheckpointError.truncated(file: file, what: what, offset: at, needed: Int(clamping: v), available: remaining)
        }
        return Int(v)
    }

    /// A text line of a protocol-0 opcode (without its newline), at most 256 bytes.
    mutating func line(_ what: String) throws -> String {
        let start = offset
        var end = start
        while true {
            guard end < bytes.count else {
                throw CheckpointError.truncated(file: file, what: what, offset: start, needed: end - start + 1, available: bytes.count - start)
            }
            if bytes[end] == 0x0a { break }
            end += 1
            guard end - start <= 256 else {
                throw CheckpointError.malformedPickle(file: file, offset: start, reason: "\(what): a text line longer than 256 bytes")
            }
        }
        offset = end + 1
        let b = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        return String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) }))
    }
}
