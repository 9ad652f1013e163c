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
