/// A value on the pickle machine's stack. Containers live in the machine's arena and are referenced
/// by index (`.object`), so values are flat: no recursion when they are copied or freed, cycles are
/// harmless, and a value's size never depends on the file.
public enum PickleValue: Hashable, Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer that does not fit in 64 bits: its little-endian two's complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// One of the allow-listed globals.
    case global(PickleGlobal)
    /// An arena object (list, tuple, dict, namespace, tensor, storage).
    case object(Int)

    /// A short name of the kind, for messages.
    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case let .global(g): return g.qualifiedName
        case .object: return "object"
        }
    }
}
