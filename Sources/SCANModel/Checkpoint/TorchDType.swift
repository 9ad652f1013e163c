/// Element types of torch storages. The reader materialises float32, float64 and int64; the others
/// are recognised so that a tensor of them is refused by name rather than as an unknown global.
public enum TorchDType: String, Hashable, Sendable {
    case float32, float64, int64, float16, bfloat16, int32, int16, int8, uint8, bool

    init?(storageName: String) {
        switch storageName {
        case "Float": self = .float32
        case "Double": self = .float64
        case "Long": self = .int64
        case "Half": self = .float16
        case "BFloat16": self = .bfloat16
        case "Int": self = .int32
        case "Short": self = .int16
        case "Char": self = .int8
        case "Byte": self = .uint8
        case "Bool": self = .bool
        default: return nil
        }
    }

    var storageName: String {
        switch self {
        case .float32: return "Float"
        case .float64: return "Double"
        case .int64: return "Long"
        case .float16: return "Half"
        case .bfloat16: return "BFloat16"
        case .int32: return "Int"
        case .int16: return "Short"
        case .int8: return "Char"
        case .uint8: return "Byte"
        case .bool: return "Bool"
        }
    }

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}
