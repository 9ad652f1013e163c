/// The fixed allow-list of globals a checkpoint's pickle may name. Every other `module.name` is
/// refused with `CheckpointError.forbiddenGlobal`; none of these is imported or called: the pickle
/// machine rebuilds the few objects they stand for itself.
public enum PickleGlobal: Hashable, Sendable {
    case orderedDict
    case namespace
    /// `torch._utils._rebuild_tensor` (torch 0.3) and `_rebuild_tensor_v2` (torch >= 0.4).
    case rebuildTensor
    case rebuildTensorV2
    /// `torch._utils._rebuild_parameter`: a `nn.Parameter` saved with `keep_vars=True`.
    case rebuildParameter
    /// `copy_reg._reconstructor` / `copyreg._reconstructor`: how protocols 0 and 1 rebuild plain objects.
    case reconstructor
    /// `__builtin__.object` / `builtins.object`: only as an argument of `_reconstructor`.
    case object
    /// `torch.FloatStorage`, `torch.cuda.FloatStorage`, ...: a storage type named in a persistent id.
    case storageType(TorchDType)

    /// Resolves `module.name`, or nil when it is not allowed.
    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("argparse", "Namespace"): return .namespace
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"): return .reconstructor
        case ("__builtin__", "object"), ("builtins", "object"): return .object
        default: break
        }
        guard module == "torch" || module == "torch.cuda", name.hasSuffix("Storage"),
              let dtype = TorchDType(storageName: String(name.dropLast("Storage".count))) else { return nil }
        return .storageType(dtype)
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .namespace: return "argparse.Namespace"
        case .rebuildTensor: return "torch._utils._rebuild_tensor"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .reconstructor: return "copyreg._reconstructor"
        case .object: return "builtins.object"
        case let .storageType(d): return "torch.\(d.storageName)Storage"
        }
    }
}

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
