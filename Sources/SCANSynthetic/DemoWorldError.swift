/// Problems generating a demo world.
public enum DemoWorldError: Error, CustomStringConvertible, Equatable {
    case invalidOption(name: String, value: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, reason): return "--\(name) \(value): \(reason)"
        case let .writeFailed(path, reason): return "\(path): cannot write (\(reason))"
        }
    }
}
