/// Internal image keys: sequential `UInt64`s stored big endian, so that LMDB's byte order is key order.
public enum IndexKey {
    /// The 8 big-endian bytes of `key`.
    public static func encode(_ key: UInt64) -> [UInt8] {
        withUnsafeBytes(of: key.bigEndian) { Array($0) }
    }

    /// Writes the 8 big-endian bytes of `key` into `bytes` (8 long): no allocation per lookup in hot loops.
    public static func encode(_ key: UInt64, into bytes: inout [UInt8]) {
        precondition(bytes.count == 8)
        withUnsafeBytes(of: key.bigEndian) { src in bytes.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
    }

    /// The key stored in `bytes`, or nil when they are not 8 bytes long.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }

    /// Text form used in error messages.
    static func describe(_ key: UInt64) -> String { String(key) }

    /// Text form of a raw key: the number for 8-byte keys, else the bytes as (lossy) UTF-8.
    static func describe(raw bytes: UnsafeRawBufferPointer) -> String {
        if let k = decode(bytes) { return String(k) }
        return "'" + String(decoding: bytes, as: UTF8.self) + "'"
    }
}
