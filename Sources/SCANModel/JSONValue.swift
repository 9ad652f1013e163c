import Foundation

/// A JSON value, for files whose keys are partly open-ended (config.json, fixture descriptions).
public enum JSONValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public static func parse(_ data: Data) throws -> JSONValue {
        let obj = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return from(obj)
    }

    public static func from(_ any: Any) -> JSONValue {
        switch any {
        case is NSNull: return .null
        case let n as NSNumber:
            // JSONSerialization gives booleans as NSNumber too: tell them apart by their type id.
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            return .number(n.doubleValue)
        case let b as Bool: return .bool(b)
        case let s as String: return .string(s)
        case let a as [Any]: return .array(a.map(from))
        case let d as [String: Any]: return .object(d.mapValues(from))
        default: return .string("\(any)")
        }
    }

    public var any: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return b
        case let .number(d): return d == d.rounded() && abs(d) < 1e15 ? (Int(d) as Any) : (d as Any)
        case let .string(s): return s
        case let .array(a): return a.map { $0.any }
        case let .object(o): return o.mapValues { $0.any }
        }
    }

    public func serialized(pretty: Bool = false) throws -> Data {
        var opts: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
        if pretty { opts.insert(.prettyPrinted) }
        return try JSONSerialization.data(withJSONObject: any, options: opts)
    }

    public var number: Double? { if case let .number(d) = self { return d }; return nil }
    public var bool: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var string: String? { if case let .string(s) = self { return s }; return nil }
    public var array: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var object: [String: JSONValue]? { if case let .object(o) = self { return o }; return nil }
    public subscript(key: String) -> JSONValue? { object?[key] }

    public var description: String {
        (try? serialized()).flatMap { String(data: $0, encoding: .utf8) } ?? "?"
    }
}
