/// The bytes Python's `json.dumps` writes (ensure_ascii, sort_keys), so that the model directory made
/// from a checkpoint is the one `Tools/convert_checkpoint.py` writes: `config.json` with `indent=2`
/// and the compact safetensors header with `separators=(",", ":")`.
enum PythonJSON {
    /// `json.dumps(value, indent=2, sort_keys=True)`.
    static func pretty(_ value: OptionValue) -> String {
        var out = ""
        write(value, indent: 2, level: 0, into: &out)
        return out
    }

    /// `json.dumps(value, sort_keys=True, separators=(",", ":"))`.
    static func compact(_ value: OptionValue) -> String {
        var out = ""
        write(value, indent: nil, level: 0, into: &out)
        return out
    }

    private static func write(_ v: OptionValue, indent: Int?, level: Int, into out: inout String) {
        switch v {
        case .none: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .float(d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += floatRepr(d) }
        case let .string(s): quote(s, into: &out)
        case let .list(items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                newline(indent, level + 1, &out)
                write(item, indent: indent, level: level + 1, into: &out)
            }
            newline(indent, level, &out)
            out += "]"
        case let .dict(pairs):
            guard !pairs.isEmpty else { out += "{}"; return }
            out += "{"
            let sorted = pairs.sorted { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) { $0.value < $1.value } }
            for (k, pair) in sorted.enumerated() {
                if k > 0 { out += "," }
                newline(indent, level + 1, &out)
                quote(pair.0, into: &out)
                out += indent == nil ? ":" : ": "
                write(pair.1, indent: indent, level: level + 1, into: &out)
            }
            newline(indent, level, &out)
            out += "}"
        }
    }

    private static func newline(_ indent: Int?, _ level: Int, _ out: inout String) {
        guard let indent else { return }
        out += "\n" + String(repeating: " ", count: indent * level)
    }

    /// A JSON string with ensure_ascii: non-ASCII as \uXXXX (UTF-16 units), controls escaped.
    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value >= 0x20 && scalar.value < 0x7f {
                    out.unicodeScalars.append(scalar)
                } else {
                    for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ u: UInt16) -> String {
        let h = String(u, radix: 16)
        return String(repeating: "0", count: 4 - h.count) + h
    }

    /// Python's `repr(float)`: the shortest digits that round-trip (as Swift's `description`), in
    /// fixed notation for exponents -4...15 and `d.ddde+XX` otherwise.
    static func floatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Decompose Swift's shortest representation into sign, digits and a decimal exponent.
        var text = d.magnitude.description
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var intPart = text, fracPart = ""
        if let dot = text.firstIndex(of: ".") {
            intPart = String(text[..<dot])
            fracPart = String(text[text.index(after: dot)...])
        }
        var digits = intPart + fracPart
        var pointPos = intPart.count + exp10  // digits[0..<pointPos] are before the decimal point
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); pointPos -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sci = pointPos - 1  // exponent in d.ddd form
        var body: String
        if sci < -4 || sci >= 16 {
            body = String(digits.prefix(1))
            if digits.count > 1 { body += "." + digits.dropFirst() }
            body += "e" + (sci < 0 ? "-" : "+") + (abs(sci) < 10 ? "0" : "") + String(abs(sci))
        } else if pointPos <= 0 {
            body = "0." + String(repeating: "0", count: -pointPos) + digits
        } else if pointPos >= digits.count {
            body = digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
        } else {
            body = String(digits.prefix(pointPos)) + "." + String(digits.dropFirst(pointPos))
        }
        return (d < 0 ? "-" : "") + body
    }
}
