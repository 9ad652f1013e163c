import Foundation

/// The parameters of a URL query string (`a=1&b=x+y`), decoded as a browser's form encodes them:
/// '+' is a space, then percent escapes. A parameter given twice keeps its first value.
struct QueryString {
    private(set) var values: [String: String] = [:]

    init(_ query: String?) throws {
        guard let query, !query.isEmpty else { return }
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(pair[0], parameter: String(pair[0]))
            let value = pair.count > 1 ? try Self.decode(pair[1], parameter: name) : ""
            if values[name] == nil { values[name] = value }
        }
    }

    subscript(_ name: String) -> String? { values[name] }

    static func decode(_ s: Substring, parameter: String) throws -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        guard let d = spaced.removingPercentEncoding else {
            throw APIError.badParameter(parameter, "invalid percent-encoding in the query string")
        }
        return d
    }
}
