import Foundation

/// Element types of the safetensors format that the project reads and writes.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case F32, F16, F64, I64, I32

    public var byteSize: Int {
        switch self { case .F32, .I32: return 4; case .F16: return 2; case .F64, .I64: return 8 }
    }
}

/// One tensor of a safetensors file: its dtype, shape and raw little-endian bytes.
public struct SafetensorsEntry: Sendable {
    public var dtype: SafetensorsDType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    public static func float32(_ t: Tensor) -> SafetensorsEntry {
        SafetensorsEntry(dtype: .F32, shape: t.shape, bytes: t.data.withUnsafeBytes { Array($0) })
    }

    public static func float16(_ t: Tensor) -> SafetensorsEntry {
        SafetensorsEntry(dtype: .F16, shape: t.shape, bytes: Half.fromFloat(t.data).withUnsafeBytes { Array($0) })
    }

    public static func float64(_ values: [Double], shape: [Int]) -> SafetensorsEntry {
        SafetensorsEntry(dtype: .F64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public static func int64(_ values: [Int64], shape: [Int]) -> SafetensorsEntry {
        SafetensorsEntry(dtype: .I64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public static func int32(_ values: [Int32], shape: [Int]) -> SafetensorsEntry {
        SafetensorsEntry(dtype: .I32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }
}

/// A safetensors file read into memory: `__metadata__` and named tensors, converted on request.
public struct SafetensorsFile: Sendable {
    public let path: String
    public var metadata: [String: String]
    public var entries: [String: SafetensorsEntry]

    public var names: [String] { entries.keys.sorted() }

    public init(path: String = "<memory>", metadata: [String: String] = [:], entries: [String: SafetensorsEntry] = [:]) {
        self.path = path; self.metadata = metadata; self.entries = entries
    }

    public init(path: String) throws {
        let mapped = try MappedFile(path: path)
        defer { withExtendedLifetime(mapped) {} }  // the map must outlive the parse that copies out of it
        try self.init(path: path, bytes: mapped.bytes)
    }

    public init(path: String, bytes: UnsafeRawBufferPointer) throws {
        self.path = path
        guard bytes.count >= 8 else { throw FormatError.truncated(file: path, expectedBytes: 8, foundBytes: bytes.count) }
        var n: UInt64 = 0
        memcpy(&n, bytes.baseAddress!, 8)
        // Checked before the conversion to Int: a length of 2^63 or more would trap there.
        guard UInt64(littleEndian: n) < 100_000_000 else {
            throw FormatError.badHeader(file: path, reason: "header length \(UInt64(littleEndian: n)) is not plausible")
        }
        let headerLen = Int(UInt64(littleEndian: n))
        guard bytes.count >= 8 + headerLen else {
            throw FormatError.truncated(file: path, expectedBytes: 8 + headerLen, foundBytes: bytes.count)
        }
        let headerData = Data(bytes[8..<(8 + headerLen)])
        guard let obj = try? JSONSerialization.jsonObject(with: headerData), let dict = obj as? [String: Any] else {
            throw FormatError.badHeader(file: path, reason: "header is not a JSON object")
        }
        let dataStart = 8 + headerLen
        let dataLen = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [String: SafetensorsEntry] = [:]
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw FormatError.badHeader(file: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in m { metadata[k] = (v as? String) ?? "\(v)" }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any],
                  let offsAny = info["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw FormatError.badHeader(file: path, reason: "tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw FormatError.unsupportedDType(file: path, field: name, dtype: dtypeName)
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offs = offsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }), offs.count == 2 else {
                throw FormatError.badHeader(file: path, reason: "tensor '\(name)' has a malformed shape or data_offsets")
            }
            // Sizes from the header are checked for overflow: offsets must lie in the data, and the
            // shape's byte count must equal their difference.
            guard let need = SafetensorsFile.byteCount(shape: shape, elementSize: dtype.byteSize) else {
                throw FormatError.invalidValue(file: path, field: "\(name).shape", reason: "\(shape) x \(dtype.byteSize) bytes overflows a 64-bit size")
            }
            guard offs[0] >= 0, offs[1] >= offs[0], offs[1] - offs[0] == need else {
                throw FormatError.badHeader(file: path, reason: "tensor '\(name)': data_offsets \(offs) do not hold \(shape) x \(dtype.rawValue)")
            }
            guard offs[1] <= dataLen else {
                throw FormatError.truncated(file: path, expectedBytes: dataStart + offs[1], foundBytes: bytes.count)
            }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[(dataStart + offs[0])..<(dataStart + offs[1])])
            entries[name] = SafetensorsEntry(dtype: dtype, shape: shape, bytes: Array(slice))
        }
        self.metadata = metadata
        self.entries = entries
    }

    /// The product of `shape` times `elementSize`, nil when it overflows.
    static func byteCount(shape: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for d in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    public func entry(_ name: String) throws -> SafetensorsEntry {
        guard let e = entries[name] else { throw FormatError.missingTensor(file: path, name: name) }
        return e
    }

    /// The tensor as float32 (float16 and float64 are converted; integers are refused).
    public func tensor(_ name: String) throws -> Tensor {
        let e = try entry(name)
        let n = e.shape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        try e.bytes.withUnsafeBytes { raw in
            switch e.dtype {
            case .F32: out.withUnsafeMutableBytes { _ = memcpy($0.baseAddress!, raw.baseAddress!, n * 4) }
            case .F16:
                let bits = [UInt16](unsafeUninitializedCapacity: n) { b, c in
                    _ = memcpy(b.baseAddress!, raw.baseAddress!, n * 2); c = n
                }
                out = Half.toFloat(bits)
            case .F64:
                for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            case .I64, .I32:
                throw FormatError.unsupportedDType(file: path, field: name, dtype: e.dtype.rawValue + " (a float tensor is needed)")
            }
        }
        return Tensor(shape: e.shape, data: out)
    }

    /// The values as Double (any float dtype or integer).
    public func doubles(_ name: String) throws -> [Double] {
        let e = try entry(name)
        let n = e.shape.reduce(1, *)
        return e.bytes.withUnsafeBytes { raw in
            (0..<n).map { i -> Double in
                switch e.dtype {
                case .F64: return raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self)
                case .F32: return Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self))
                case .F16: return Double(Half.toFloat([raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)])[0])
                case .I64: return Double(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                case .I32: return Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
                }
            }
        }
    }

    /// The values as Int (integer dtypes only).
    public func ints(_ name: String) throws -> [Int] {
        let e = try entry(name)
        let n = e.shape.reduce(1, *)
        switch e.dtype {
        case .I64: return e.bytes.withUnsafeBytes { r in (0..<n).map { Int(r.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } }
        case .I32: return e.bytes.withUnsafeBytes { r in (0..<n).map { Int(r.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) } }
        default: throw FormatError.unsupportedDType(file: path, field: name, dtype: e.dtype.rawValue + " (an integer tensor is needed)")
        }
    }

    public func shape(_ name: String) throws -> [Int] { try entry(name).shape }

    /// The file's bytes: header sorted by name (deterministic), data in the same order, 8-byte aligned.
    public func serialized() -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let order = names
        for name in order {
            let e = entries[name]!
            header[name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]] as [String: Any]
            offset += e.bytes.count
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for name in order { out.append(contentsOf: entries[name]!.bytes) }
        return out
    }

    public func write(to path: String) throws {
        do { try Data(serialized()).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw FormatError.writeFailed(file: path, reason: "\(error)")
        }
    }
}
