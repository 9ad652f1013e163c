import Foundation

/// An original SCAN checkpoint (`model_best.pth.tar`, the dict the original train.py saves:
/// `{'epoch', 'model': [img_enc.state_dict(), txt_enc.state_dict()], 'best_rsum', 'opt', 'Eiters'}`),
/// read without PyTorch in either of torch's serialisations. Nothing in the file is executed:
/// see `PickleMachine` and `PickleGlobal`.
///
/// `OriginalCheckpoint(bytes:file:)` is the one entry point from bytes (the fuzzing target's).
public struct OriginalCheckpoint: Sendable {
    /// One weight, converted to float32 (as the converter does), in the checkpoint's order.
    public struct Weight: Sendable {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
    }

    /// The name used in messages (the path, or what the caller passed).
    public let file: String
    /// `legacy` (torch <= 1.5, the original's) or `zip` (torch >= 1.6).
    public let layout: String
    /// `img_enc.*` then `txt_enc.*`, in the checkpoint's order.
    public let weights: [Weight]
    /// The fields of `opt` in their pickled order; nil when the checkpoint has no `opt`.
    public let options: [(String, OptionValue)]?
    /// `epoch`, `best_rsum`, `Eiters` when present (Python scalars).
    public let counters: [(String, OptionValue)]

    /// Most values a container of `opt` may hold in total (JSON conversion of nested options).
    static let optionValueBudget = 100_000
    static let optionDepthLimit = 16

    public init(path: String) throws {
        let mapped: MappedFile
        do { mapped = try MappedFile(path: path) } catch {
            throw CheckpointError.notACheckpoint(file: path, reason: "cannot be read (\(error))")
        }
        defer { withExtendedLifetime(mapped) {} }  // the map must outlive the parse that reads it
        try self.init(bytes: mapped.bytes, file: path)
    }

    /// The fuzzing entry: parses checkpoint bytes into the loaded result, or throws `CheckpointError`.
    public init(bytes: [UInt8], file: String = "(checkpoint)") throws {
        self = try bytes.withUnsafeBytes { try OriginalCheckpoint(bytes: $0, file: file) }
    }

    public init(data: Data, file: String = "(checkpoint)") throws {
        self = try data.withUnsafeBytes { try OriginalCheckpoint(bytes: $0, file: file) }
    }

    public init(bytes: UnsafeRawBufferPointer, file: String) throws {
        self.file = file
        let torch = try TorchSerialization(bytes: bytes, file: file)
        layout = torch.layout.rawValue
        let m = torch.machine
        func notSCAN(_ r: String) -> CheckpointError { .notSCANCheckpoint(file: file, reason: r) }

        guard case let .dict(top)? = m.object(torch.root) else {
            throw notSCAN("the file holds a \(Self.describe(torch.root, m)), expected the dict that the original train.py saves ('model', 'opt', 'epoch', ...)")
        }
        guard let model = top[string: "model"] else {
            let keys = top.keys.prefix(12).map { Self.describe($0, m, repr: true) }.joined(separator: ", ")
            throw notSCAN("it has no 'model' entry (its keys: \(keys.isEmpty ? "none" : keys)); expected 'model' = [img_enc state_dict, txt_enc state_dict]")
        }

        // (prefixed name, tensor value) pairs, as the converter's state_dict_items.
        var items: [(String, PickleValue)] = []
        func keyString(_ k: PickleValue) throws -> String {
            switch k {
            case let .string(s): return s
            case let .bytes(b): return String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) }))
            case let .int(i): return String(i)
            default: throw notSCAN("a state dict key is a \(Self.describe(k, m))")
            }
        }
        switch m.object(model) {
        case let .list(parts)?, let .tuple(parts)?:
            let dicts = parts.compactMap { p -> PickleDict? in if case let .dict(d)? = m.object(p) { return d }; return nil }
            guard parts.count == 2, dicts.count == 2 else {
                throw notSCAN("'model' is a sequence of \(parts.count) entries; expected [img_enc state_dict, txt_enc state_dict]")
            }
            for (prefix, d) in zip(["img_enc.", "txt_enc."], dicts) {
                for (k, v) in d.pairs { items.append((prefix + (try keyString(k)), v)) }
            }
        case let .dict(d)?:
            let names = try d.keys.map(keyString)
            guard !names.isEmpty, names.allSatisfy({ $0.hasPrefix("img_enc.") || $0.hasPrefix("txt_enc.") }) else {
                throw notSCAN("'model' is a dict whose keys are not all img_enc.* / txt_enc.*; expected [img_enc state_dict, txt_enc state_dict]")
            }
            items = Array(zip(names, d.values))
        default:
            throw notSCAN("'model' is a \(Self.describe(model, m)); expected [img_enc state_dict, txt_enc state_dict]")
        }
        guard !items.isEmpty else { throw notSCAN("'model' holds no tensors") }

        // Materialise: every bound is checked before any allocation, and the float32 output may not
        // exceed the file's size (views can overlap, so the sum over tensors needs its own bound).
        var budget = bytes.count
        var seen = Set<String>()
        var weights: [Weight] = []
        for (name, value) in items {
            guard seen.insert(name).inserted else { throw CheckpointError.badTensor(file: file, tensor: name, reason: "appears twice") }
            guard case let .tensor(t)? = m.object(value) else {
                throw CheckpointError.badTensor(file: file, tensor: name, reason: "is a \(Self.describe(value, m)), not a tensor")
            }
            weights.append(try Self.materialize(t, name: name, storages: torch.storages, bytes: bytes, budget: &budget, file: file))
        }
        self.weights = weights

        // opt: an argparse.Namespace (or a dict) of Python scalars.
        var budgetValues = Self.optionValueBudget
        switch top[string: "opt"].map({ ($0, m.object($0)) }) {
        case nil, (.none, _)?:
            options = nil
        case let (_, .namespace(ns)?)?, let (_, .dict(ns)?)?:
            var opts: [(String, OptionValue)] = []
            var index: [String: Int] = [:]
            for (k, v) in ns.pairs {
                let key = try keyString(k)
                let value = try Self.option(v, m, field: "opt.\(key)", depth: 0, budget: &budgetValues, file: file)
                if let i = index[key] { opts[i].1 = value } else { index[key] = opts.count; opts.append((key, value)) }
            }
            options = opts
        case let (v, _)?:
            throw notSCAN("'opt' is a \(Self.describe(v, m)), expected an argparse.Namespace")
        }
        var counters: [(String, OptionValue)] = []
        for key in ["epoch", "best_rsum", "Eiters"] {
            if let v = top[string: key] {
                counters.append((key, try Self.option(v, m, field: key, depth: 0, budget: &budgetValues, file: file)))
            }
        }
        self.counters = counters
    }

    static func materialize(_ t: TorchTensorRef, name: String, storages: [String: TorchSerialization.StorageBytes],
                            bytes: UnsafeRawBufferPointer, budget: inout Int, file: String) throws -> Weight {
        func bad(_ r: String) -> CheckpointError { .badTensor(file: file, tensor: name, reason: r) }
        guard t.storage.dtype == .float32 || t.storage.dtype == .float64 else {
            throw bad("is a \(t.storage.dtype.rawValue) tensor; only float tensors (float32, float64) are expected")
        }
        guard let s = storages[t.storage.key] else {
            throw CheckpointError.badStorage(file: file, storage: t.storage.key, reason: "has no data in the file")
        }
        guard s.dtype == t.storage.dtype else { throw bad("its storage \(t.storage.key) is named with two types") }
        // Dimensions beyond 2^31 cannot hold data here (an empty tensor could still declare them);
        // refusing them keeps every size computed from a shape far from overflow.
        if let big = t.shape.first(where: { $0 > Int(Int32.max) }) { throw bad("dimension \(big) in shape \(t.shape) is beyond 2^31 - 1") }
        var count = 1
        var lastIndex = 0  // largest element offset the strides reach
        for (n, st) in zip(t.shape, t.stride) {
            let (c, o1) = count.multipliedReportingOverflow(by: n)
            guard !o1 else { throw bad("shape \(t.shape) overflows") }
            count = c
            if n > 0 {
                let (reach, o2) = (n - 1).multipliedReportingOverflow(by: st)
                let (sum, o3) = lastIndex.addingReportingOverflow(reach)
                guard !o2, !o3 else { throw bad("stride \(t.stride) overflows") }
                lastIndex = sum
            }
        }
        let (outBytes, o4) = count.multipliedReportingOverflow(by: 4)
        guard !o4, outBytes <= budget else {
            throw bad("shape \(t.shape) needs more data than the file holds (\(bytes.count) bytes)")
        }
        budget -= outBytes
        if count > 0 {
            let (first, o5) = t.storage.viewOffset.addingReportingOverflow(t.offset)
            let (end, o6) = first.addingReportingOverflow(lastIndex)
            let viewEnd = t.storage.viewOffset + t.storage.viewCount
            guard !o5, !o6, end < viewEnd, viewEnd <= s.count else {
                throw bad("offset \(t.offset), shape \(t.shape) and stride \(t.stride) reach element \(o6 || o5 ? "beyond Int" : String(end - t.storage.viewOffset)) of storage \(t.storage.key), which has \(t.storage.viewCount) elements")
            }
        }
        var values = [Float](repeating: 0, count: count)
        if count > 0 {
            let base = s.offset
            let size = s.dtype.byteSize
            let start = t.storage.viewOffset + t.offset
            let rank = t.shape.count
            var idx = [Int](repeating: 0, count: rank)
            var elem = start
            values.withUnsafeMutableBufferPointer { out in
                for k in 0..<count {
                    let at = base + elem * size
                    if s.dtype == .float32 {
                        out[k] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    } else {
                        out[k] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
                    }
                    // Advance the multi-index (last dimension fastest), keeping elem in step.
                    // Wrapping arithmetic: the running offset may pass beyond Int on the way (a
                    // dimension of size 1 with any stride), but every element read was bounded above.
                    var d = rank - 1
                    while d >= 0 {
                        idx[d] += 1
                        elem = elem &+ t.stride[d]
                        if idx[d] < t.shape[d] { break }
                        elem = elem &- t.stride[d] &* t.shape[d]
                        idx[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return Weight(name: name, shape: t.shape, values: values)
    }

    /// A JSON-safe copy of an option value (the converter's json_value), bounded in depth and size.
    static func option(_ v: PickleValue, _ m: PickleMachine, field: String, depth: Int, budget: inout Int, file: String) throws -> OptionValue {
        budget -= 1
        guard budget >= 0, depth <= optionDepthLimit else {
            throw CheckpointError.notSCANCheckpoint(file: file, reason: "\(field) is nested deeper or larger than an option can be")
        }
        switch v {
        case .none: return .none
        case let .bool(b): return .bool(b)
        case let .int(i): return .int(i)
        case .bigInt: throw CheckpointError.notSCANCheckpoint(file: file, reason: "\(field) is an integer beyond 64 bits")
        case let .float(d): return d.isFinite ? .float(d) : .string(PythonJSON.floatRepr(d))
        case let .string(s): return .string(s)
        case let .bytes(b): return .string(String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) })))
        case .global: break
        case .object:
            switch m.object(v) {
            case let .list(items)?, let .tuple(items)?:
                return .list(try items.map { try option($0, m, field: field, depth: depth + 1, budget: &budget, file: file) })
            case let .dict(d)?:
                return .dict(try d.pairs.map { k, x in
                    let key: String
                    switch k {
                    case let .string(s): key = s
                    default: key = try option(k, m, field: field, depth: depth + 1, budget: &budget, file: file).pythonStr
                    }
                    return (key, try option(x, m, field: field, depth: depth + 1, budget: &budget, file: file))
                })
            default: break
            }
        }
        throw CheckpointError.notSCANCheckpoint(file: file, reason: "\(field) is a \(describe(v, m)), which an option cannot be")
    }

    static func describe(_ v: PickleValue, _ m: PickleMachine, repr: Bool = false) -> String {
        if repr, case let .string(s) = v { return "'\(s)'" }
        switch m.object(v) {
        case .list?: return "list"
        case .tuple?: return "tuple"
        case .dict?: return "dict"
        case .namespace?: return "argparse.Namespace"
        case .tensor?: return "Tensor"
        case .storage?: return "storage"
        case nil: return v.kindName
        }
    }
}
