/// Standard base64 (RFC 4648, with '=' padding) decoding straight into a caller's buffer.
enum Base64 {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Decoded size of `text`, or nil when its length is not a multiple of 4.
    static func decodedLength(_ text: UnsafeRawBufferPointer) -> Int? {
        let n = text.count
        guard n % 4 == 0 else { return nil }
        if n == 0 { return 0 }
        var pad = 0
        if text[n - 1] == UInt8(ascii: "=") { pad += 1 }
        if n >= 2 && text[n - 2] == UInt8(ascii: "=") { pad += 1 }
        return n / 4 * 3 - pad
    }

    /// Decodes `text` into `out` (which holds `decodedLength(text)` bytes). Returns the offset of the
    /// first invalid character, or nil on success.
    static func decode(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) -> Int? {
        guard let total = decodedLength(text) else { return text.count }
        let n = text.count
        if n == 0 { return nil }
        return table.withUnsafeBufferPointer { t -> Int? in
            let o = out.assumingMemoryBound(to: UInt8.self)
            var j = 0
            var i = 0
            let full = total / 3  // groups without padding
            while i / 4 < full {
                let a = t[Int(text[i])], b = t[Int(text[i + 1])], c = t[Int(text[i + 2])], d = t[Int(text[i + 3])]
                if (a | b | c | d) & 0xC0 != 0 {
                    return i + [a, b, c, d].firstIndex { $0 == 0xFF }!
                }
                o[j] = (a << 2) | (b >> 4)
                o[j + 1] = (b << 4) | (c >> 2)
                o[j + 2] = (c << 6) | d
                i += 4
                j += 3
            }
            let rest = total - j
            if rest > 0 {
                // Last group: "xx==" (1 byte) or "xxx=" (2 bytes).
                let a = t[Int(text[i])], b = t[Int(text[i + 1])]
                if a == 0xFF { return i }
                if b == 0xFF { return i + 1 }
                o[j] = (a << 2) | (b >> 4)
                if rest == 2 {
                    let c = t[Int(text[i + 2])]
                    if c == 0xFF { return i + 2 }
                    o[j + 1] = (b << 4) | (c >> 2)
                }
            }
            return nil
        }
    }
}
