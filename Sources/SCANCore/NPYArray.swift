import Foundation

/// Element types the npy reader understands.
public enum NPYDType: String, Sendable {
    case float32 = "<f4"
    case float16 = "<f2"
    case float64 = "<f8"

    public var byteSize: Int {
        switch self { case .float32: return 4; case .float16: return 2; case .float64: return 8 }
    }
}

/// A memory-mapped `.npy` file (header versions 1, 2 and 3; little endian; C order).
///
/// The data stay in the map; callers convert the slices they need to float32.
public final class NPYArray: @unchecked Sendable {
    public let path: String
    public let dtype: NPYDType
    public let shape: [Int]
    public let headerVersion: Int
    private let mapped: MappedFile
    private let dataOffset: Int

    public var count: Int { shape.reduce(1, *) }

    public init(path: String) throws {
        self.path = path
        mapped = try MappedFile(path: path)
        let layout = try NPYArray.parseHeader(mapped.bytes, file: path)
        dtype = layout.dtype
        shape = layout.shape
        headerVersion = layout.headerVersion
        dataOffset = layout.dataOffset
    }

    /// What the header of an npy file says, checked against the file's size.
    struct Layout: Equatable {
        var dtype: NPYDType
        var shape: [Int]
        var headerVersion: Int
        var dataOffset: Int
        var dataBytes: Int
    }

    /// Parses and checks the header of an npy file's `bytes` (the whole file); `file` names it in errors.
    /// Every size is computed with checked arithmetic: a header is outside input.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, file path: String) throws -> Layout {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw FormatError.badHeader(file: path, reason: "not an npy file (magic \\x93NUMPY missing)")
        }
        let major = Int(bytes[6])
        let headerLen: Int
        let start: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | (Int(bytes[9]) << 8)
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw FormatError.truncated(file: path, expectedBytes: 12, foundBytes: bytes.count) }
            headerLen = Int(bytes[8]) | (Int(bytes[9]) << 8) | (Int(bytes[10]) << 16) | (Int(bytes[11]) << 24)
            start = 12
        default:
            throw FormatError.badHeader(file: path, reason: "unsupported npy version \(major)")
        }
        guard bytes.count >= start + headerLen else {
            throw FormatError.truncated(file: path, expectedBytes: start + headerLen, foundBytes: bytes.count)
        }
        guard let header = String(bytes: bytes[start..<(start + headerLen)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw FormatError.badHeader(file: path, reason: "header is not text")
        }
        let parsed = try NPYHeader.parse(header, file: path)
        guard let dt = NPYDType(rawValue: parsed.descr == "|f2" ? "<f2" : parsed.descr) else {
            throw FormatError.unsupportedDType(file: path, field: "descr", dtype: parsed.descr)
        }
        if parsed.fortranOrder {
            throw FormatError.badHeader(file: path, reason: "fortran_order arrays are not supported (save with C order)")
        }
        let dataOffset = start + headerLen
        // The byte count of the data, and of every dimension's extent, must fit an Int: the product of
        // the non-zero dimensions times the element size is checked, so callers may multiply any
        // subset of the dimensions (with the element size) without overflow.
        var dataBytes = dt.byteSize
        for d in parsed.shape where d > 0 {
            let (p, overflow) = dataBytes.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw FormatError.invalidValue(file: path, field: "shape",
                                               reason: "\(parsed.shape) x \(dt.byteSize) bytes overflows a 64-bit size")
            }
            dataBytes = p
        }
        if parsed.shape.contains(0) { dataBytes = 0 }
        let (need, overflow) = dataOffset.addingReportingOverflow(dataBytes)
        if overflow || bytes.count < need {
            throw FormatError.truncated(file: path, expectedBytes: overflow ? Int.max : need, foundBytes: bytes.count)
        }
        return Layout(dtype: dt, shape: parsed.shape, headerVersion: major, dataOffset: dataOffset, dataBytes: dataBytes)
    }

    /// Converts `count` elements starting at flat index `offset` to float32 into `dst`.
    public func copyFloats(offset: Int, count n: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(offset >= 0 && offset + n <= count)
        let raw = mapped.bytes.baseAddress! + dataOffset
        switch dtype {
        case .float32:
            // The data offset of a valid npy is 64-byte aligned; copy bytes to be safe either way.
            memcpy(dst, raw + offset * 4, n * 4)
        case .float16:
            let src = (raw + offset * 2)
            if Int(bitPattern: src) % 2 == 0 {
                Half.toFloat(src.assumingMemoryBound(to: UInt16.self), dst, count: n)
            } else {
                var tmp = [UInt16](repeating: 0, count: n)
                tmp.withUnsafeMutableBytes { _ = memcpy($0.baseAddress!, src, n * 2) }
                tmp.withUnsafeBufferPointer { Half.toFloat($0.baseAddress!, dst, count: n) }
            }
        case .float64:
            for i in 0..<n {
                var d = 0.0
                memcpy(&d, raw + (offset + i) * 8, 8)
                dst[i] = Float(d)
            }
        }
    }

    /// Elements `[offset, offset+count)` as float32.
    public func floats(offset: Int = 0, count n: Int? = nil) -> [Float] {
        let n = n ?? (count - offset)
        var out = [Float](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { copyFloats(offset: offset, count: n, into: $0.baseAddress!) }
        return out
    }

    /// The whole array as a float32 tensor (use `rows` for large files).
    public func tensor() -> Tensor { Tensor(shape: shape, data: floats()) }

    /// Rows `range` along the first axis as a float32 tensor.
    public func rows(_ range: Range<Int>) -> Tensor {
        let per = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(), data: floats(offset: range.lowerBound * per, count: range.count * per))
    }
}

/// Parsing and formatting of the npy header dictionary.
enum NPYHeader {
    struct Parsed { var descr: String; var fortranOrder: Bool; var shape: [Int] }

    static func parse(_ text: String, file: String) throws -> Parsed {
        func value(for key: String) throws -> Substring {
            guard let r = text.range(of: "'\(key)'") else {
                throw FormatError.badHeader(file: file, reason: "no '\(key)' in header \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            var rest = text[r.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { throw FormatError.badHeader(file: file, reason: "no ':' after '\(key)'") }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        let d = try value(for: "descr")
        guard let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else {
            throw FormatError.badHeader(file: file, reason: "descr is not a string")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let f = try value(for: "fortran_order")
        let fortran: Bool
        if f.hasPrefix("False") { fortran = false } else if f.hasPrefix("True") { fortran = true } else {
            throw FormatError.badHeader(file: file, reason: "fortran_order is neither True nor False")
        }
        let s = try value(for: "shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else {
            throw FormatError.badHeader(file: file, reason: "shape is not a tuple")
        }
        let inner = s[s.index(after: s.startIndex)..<close]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw FormatError.badHeader(file: file, reason: "bad shape entry '\(t)'") }
            shape.append(v)
        }
        return Parsed(descr: descr, fortranOrder: fortran, shape: shape)
    }

    /// A version 1 header (version 2 when it does not fit in 65535 bytes), padded to 64 bytes.
    static func encode(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        for version in [1, 2] {
            let prefix = version == 1 ? 10 : 12
            var total = prefix + dict.utf8.count + 1
            let pad = (64 - total % 64) % 64
            total += pad
            let headerLen = total - prefix
            if version == 1 && headerLen > 0xFFFF { continue }
            dict += String(repeating: " ", count: pad) + "\n"
            var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, UInt8(version), 0]
            if version == 1 {
                out += [UInt8(headerLen & 0xFF), UInt8(headerLen >> 8)]
            } else {
                out += [UInt8(headerLen & 0xFF), UInt8((headerLen >> 8) & 0xFF), UInt8((headerLen >> 16) & 0xFF), UInt8(headerLen >> 24)]
            }
            out += Array(dict.utf8)
            return out
        }
        fatalError("unreachable")
    }
}

/// Writing `.npy` files.
public enum NPY {
    /// The header of a C-order npy file of this dtype and shape (for writers that stream the data).
    public static func header(dtype: NPYDType, shape: [Int]) -> [UInt8] {
        NPYHeader.encode(descr: dtype.rawValue, shape: shape)
    }

    /// Writes `tensor` as float32 or float16 (`dtype`), C order, little endian.
    public static func write(_ tensor: Tensor, to path: String, dtype: NPYDType = .float32) throws {
        var bytes = NPYHeader.encode(descr: dtype.rawValue, shape: tensor.shape)
        switch dtype {
        case .float32:
            tensor.data.withUnsafeBytes { bytes.append(contentsOf: $0) }
        case .float16:
            Half.fromFloat(tensor.data).withUnsafeBytes { bytes.append(contentsOf: $0) }
        case .float64:
            tensor.data.map(Double.init).withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw FormatError.writeFailed(file: path, reason: "\(error)")
        }
    }

    /// Writes float64 values with the given shape.
    public static func write(doubles: [Double], shape: [Int], to path: String) throws {
        precondition(shape.reduce(1, *) == doubles.count)
        var bytes = NPYHeader.encode(descr: NPYDType.float64.rawValue, shape: shape)
        doubles.withUnsafeBytes { bytes.append(contentsOf: $0) }
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw FormatError.writeFailed(file: path, reason: "\(error)")
        }
    }

    /// Reads a whole `.npy` file as float32.
    public static func read(_ path: String) throws -> Tensor { try NPYArray(path: path).tensor() }
}
