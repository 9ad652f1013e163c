/// Byte-plane shuffling: element i's byte b goes to plane b (offset b * count + i), which groups the
/// slowly varying sign/exponent bytes of floats together and helps zstd a little.
/// Loops index separate plane pointers (no checked arithmetic inside) so that they vectorise.
enum ByteShuffle {
    static func shuffle(_ src: UnsafeRawPointer, into dst: UnsafeMutableRawPointer, count n: Int, width: Int) {
        let d = dst.assumingMemoryBound(to: UInt8.self)
        let s = src.assumingMemoryBound(to: UInt8.self)
        switch width {
        case 2:
            let p0 = d, p1 = d + n
            for i in 0..<n {
                p0[i] = s[2 &* i]
                p1[i] = s[2 &* i &+ 1]
            }
        case 4:
            let p0 = d, p1 = d + n, p2 = d + 2 * n, p3 = d + 3 * n
            for i in 0..<n {
                p0[i] = s[4 &* i]
                p1[i] = s[4 &* i &+ 1]
                p2[i] = s[4 &* i &+ 2]
                p3[i] = s[4 &* i &+ 3]
            }
        default:
            for b in 0..<width {
                let p = d + b * n
                for i in 0..<n { p[i] = s[i &* width &+ b] }
            }
        }
    }

    static func unshuffle(_ src: UnsafeRawPointer, into dst: UnsafeMutableRawPointer, count n: Int, width: Int) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        let d = dst.assumingMemoryBound(to: UInt8.self)
        switch width {
        case 2:
            let p0 = s, p1 = s + n
            for i in 0..<n {
                d[2 &* i] = p0[i]
                d[2 &* i &+ 1] = p1[i]
            }
        case 4:
            let p0 = s, p1 = s + n, p2 = s + 2 * n, p3 = s + 3 * n
            for i in 0..<n {
                d[4 &* i] = p0[i]
                d[4 &* i &+ 1] = p1[i]
                d[4 &* i &+ 2] = p2[i]
                d[4 &* i &+ 3] = p3[i]
            }
        default:
            for b in 0..<width {
                let p = s + b * n
                for i in 0..<n { d[i &* width &+ b] = p[i] }
            }
        }
    }
}
