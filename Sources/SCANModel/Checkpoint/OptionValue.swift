/// An option of the original's `opt` as Python held it: ints and floats stay apart, so config.json
/// writes `128` and `2.0` exactly as the converter's `json.dumps` does.
public indirect enum OptionValue: Equatable, Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case list([OptionValue])
    /// A dict, in insertion order (config.json sorts keys when written).
    case dict([(String, OptionValue)])

    public static func == (a: OptionValue, b: OptionValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.float(x), .float(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Python's `==` for the scalar comparisons of the converter (`16 == 16.0`, `True == 1`).
    func pythonEquals(_ other: OptionValue) -> Bool {
        switch (numeric, other.numeric) {
        case let (x?, y?): return x == y
        default: return self == other
        }
    }

    private var numeric: Double? {
        switch self {
        case let .bool(b): return b ? 1 : 0
        case let .int(i): return Double(i)
        case let .float(d): return d
        default: return nil
        }
    }

    /// Python's `repr` (the converter prints filled options with `!r`).
    public var pythonRepr: String {
        switch self {
        case .none: return "None"
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return String(i)
        case let .float(d): return PythonJSON.floatRepr(d)
        case let .string(s): return "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        case let .list(l): return "[" + l.map(\.pythonRepr).joined(separator: ", ") + "]"
        case let .dict(d): return "{" + d.map { "'\($0.0)': \($0.1.pythonRepr)" }.joined(separator: ", ") + "}"
        }
    }

    /// Python's `str` of a scalar (the converter's `scalar_string` for the safetensors metadata).
    public var pythonStr: String {
        if case let .string(s) = self { return s }
        return pythonRepr
    }

    /// The value as the project's JSON type (for `ModelConfig`).
    public var json: JSONValue {
        switch self {
        case .none: return .null
        case let .bool(b): return .bool(b)
        case let .int(i): return .number(Double(i))
        case let .float(d): return .number(d)
        case let .string(s): return .string(s)
        case let .list(l): return .array(l.map(\.json))
        case let .dict(d): return .object(Dictionary(d.map { ($0.0, $0.1.json) }, uniquingKeysWith: { _, b in b }))
        }
    }
}
