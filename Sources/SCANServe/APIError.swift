import Foundation
import Hummingbird

/// A request the service refuses, answered as `{"error": {"status": ..., "parameter": ..., "message": ...}}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// The query parameter, body field or path component at fault (nil when none is).
    public var parameter: String?
    public var message: String

    public init(_ status: HTTPResponse.Status, parameter: String?, _ message: String) {
        self.status = status; self.parameter = parameter; self.message = message
    }

    public static func badParameter(_ name: String, _ message: String) -> APIError { APIError(.badRequest, parameter: name, message) }

    public var description: String { "\(status.code) \(parameter.map { "\($0): " } ?? "")\(message)" }

    struct Body: Encodable {
        struct Detail: Encodable {
            var status: Int
            var parameter: String?
            var message: String
        }
        var error: Detail
    }

    var jsonBody: Data {
        let body = Body(error: .init(status: status.code, parameter: parameter, message: message))
        return (try? ServiceJSON.encoder.encode(body)) ?? Data("{\"error\": {\"status\": \(status.code), \"message\": \"error\"}}".utf8)
    }
}
