/// Errors reading or writing the project's file formats. Each names the file and what was wrong.
public enum FormatError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case cannotOpen(file: String, reason: String)
    /// The file is shorter than its header says.
    case truncated(file: String, expectedBytes: Int, foundBytes: Int)
    /// The header does not parse.
    case badHeader(file: String, reason: String)
    /// A dtype the reader does not support, or not the one the caller needs.
    case unsupportedDType(file: String, field: String, dtype: String)
    /// A tensor's shape differs from what the caller needs.
    case shapeMismatch(file: String, field: String, expected: String, found: String)
    /// A named tensor is absent.
    case missingTensor(file: String, name: String)
    /// A value is invalid (NaN, out of range, ...).
    case invalidValue(file: String, field: String, reason: String)
    /// Writing failed.
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): return "\(file): cannot open: \(reason)"
        case let .truncated(file, e, f): return "\(file): truncated: expected \(e) bytes, found \(f)"
        case let .badHeader(file, reason): return "\(file): bad header: \(reason)"
        case let .unsupportedDType(file, field, dtype): return "\(file): \(field): unsupported dtype \(dtype)"
        case let .shapeMismatch(file, field, e, f): return "\(file): \(field): expected shape \(e), found \(f)"
        case let .missingTensor(file, name): return "\(file): missing tensor '\(name)'"
        case let .invalidValue(file, field, reason): return "\(file): \(field): \(reason)"
        case let .writeFailed(file, reason): return "\(file): write failed: \(reason)"
        }
    }
}
