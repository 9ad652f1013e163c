/// Byte-plane shuffling: element i's byte b goes to plane b (offset b * count + i), which groups the
/// slowly varying sign/exponent bytes of floats together and helps zstd a little.
enum ByteShuffle {
    static func shuffle(_ src: UnsafeRawPointer, into dst: UnsafeMutableRawPointer, count n: Int, width: Int) {
        let d = dst.assumingMemoryBound(to: UInt8.self)
        switch width {
        case 2:
            let s = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n {
                let v = UInt16(littleEndian: s[i])
                d[i] = UInt8(truncatingIfNeeded: v)
                d[n + i] = UInt8(truncatingIfNeeded: v >> 8)
            }
        case 4:
            for i in 0..<n {
                let v = UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                d[i] = UInt8(truncatingIfNeeded: v)
                d[n + i] = UInt8(truncatingIfNeeded: v >> 8)
                d[2 * n + i] = UInt8(truncatingIfNeeded: v >> 16)
                d[3 * n + i] = UInt8(truncatingIfNeeded: v >> 24)
            }
        default:
            let s = src.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n { for b in 0..<width { d[b * n + i] = s[i * width + b] } }
        }
    }

    static func unshuffle(_ src: UnsafeRawPointer, into dst: UnsafeMutableRawPointer, count n: Int, width: Int) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        switch width {
        case 2:
            let d = dst.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { d[i] = UInt16(littleEndian: UInt16(s[i]) | (UInt16(s[n + i]) << 8)) }
        case 4:
            for i in 0..<n {
                let v = UInt32(s[i]) | (UInt32(s[n + i]) << 8) | (UInt32(s[2 * n + i]) << 16) | (UInt32(s[3 * n + i]) << 24)
                dst.storeBytes(of: v.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        default:
            let d = dst.assumingMemoryBound(to: UInt8.self)
            for i in 0..<n { for b in 0..<width { d[i * width + b] = s[b * n + i] } }
        }
    }
}
