/// Errors loading or using a model. Each names the file or input and what was expected.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// An option has a value the original does not accept.
    case unknownOptionValue(file: String, field: String, value: String, allowed: [String])
    /// An option is present with the wrong JSON type, or is out of range.
    case invalidOption(file: String, field: String, reason: String)
    /// A weight tensor has the wrong shape for the configuration.
    case weightShape(file: String, name: String, expected: [Int], found: [Int])
    /// A weight tensor is missing.
    case missingWeight(file: String, name: String)
    /// Input features do not have the dimension the model was trained on.
    case featureDimension(source: String, expected: Int, found: Int)
    /// Input ids outside the vocabulary, or an empty caption.
    case invalidCaption(index: Int, reason: String)
    /// A configuration the implementation does not support.
    case unsupported(field: String, reason: String)
    /// A model directory is missing a file.
    case missingFile(path: String)

    public var description: String {
        switch self {
        case let .unknownOptionValue(file, field, value, allowed):
            return "\(file): \(field): unknown value '\(value)' (expected one of \(allowed.joined(separator: ", ")))"
        case let .invalidOption(file, field, reason):
            return "\(file): \(field): \(reason)"
        case let .weightShape(file, name, e, f):
            return "\(file): \(name): expected shape \(e), found \(f)"
        case let .missingWeight(file, name):
            return "\(file): missing weight '\(name)'"
        case let .featureDimension(source, e, f):
            return "\(source): feature dimension \(f) does not match the model's img_dim \(e)"
        case let .invalidCaption(index, reason):
            return "caption \(index): \(reason)"
        case let .unsupported(field, reason):
            return "\(field): not supported: \(reason)"
        case let .missingFile(path):
            return "\(path): no such file"
        }
    }
}
