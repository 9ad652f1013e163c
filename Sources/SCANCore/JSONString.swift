/// The one JSON string encoder of the project: result lines, error messages and the original's
/// vocabulary files all quote strings through it, with the escaping their readers expect.
public enum JSONString {
    public enum Escaping: Sendable {
        /// RFC 8259: `"` `\` and control characters escaped, everything else as UTF-8.
        case json
        /// Python's `json.dumps` with `ensure_ascii=True`: also every character outside
        /// space...tilde as `\uXXXX` (surrogate pairs above the BMP), so files match the original byte for byte.
        case asciiOnly
        /// For messages: also whitespace other than the space and invisible format characters escaped,
        /// so that a word with a stray tab or zero-width space is seen as such.
        case visible
    }

    /// `s` as a JSON string literal, quotes included.
    public static func quoted(_ s: String, escaping: Escaping = .json) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        append(s, escaping: escaping, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal to `out`.
    public static func append(_ s: String, escaping: Escaping = .json, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        func appendU(_ v: UInt32) {
            out.append(contentsOf: [0x5C, 0x75])  // \u
            for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((v >> UInt32(shift)) & 0xF)]) }
        }
        out.append(0x22)
        for c in s.unicodeScalars {
            switch c.value {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0x08: out.append(contentsOf: [0x5C, 0x62])
            case 0x0C: out.append(contentsOf: [0x5C, 0x66])
            case 0x00..<0x20: appendU(c.value)
            case 0x20...0x7E: out.append(UInt8(c.value))
            default:
                let invisible = c.value == 0x7F || c.properties.generalCategory == .format || c.properties.isWhitespace
                switch escaping {
                case .json where c.value != 0x7F:
                    out.append(contentsOf: Array(String(c).utf8))
                case .visible where !invisible:
                    out.append(contentsOf: Array(String(c).utf8))
                default:
                    if c.value >= 0x10000 {
                        let v = c.value - 0x10000
                        appendU(0xD800 + (v >> 10))
                        appendU(0xDC00 + (v & 0x3FF))
                    } else {
                        appendU(c.value)
                    }
                }
            }
        }
        out.append(0x22)
    }
}
