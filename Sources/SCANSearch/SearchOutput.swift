import Foundation

/// The printed forms of search results.
public enum SearchOutput {
    /// One JSON object on one line: `{"query": ..., "results": [{"rank": 1, "id": ..., "score": ..., "captions": [...]}, ...]}`.
    public static func jsonLine(query: String, hits: [SearchHit]) -> String {
        var s = "{\"query\": " + jsonString(query) + ", \"results\": ["
        s += hits.map { h in
            "{\"rank\": \(h.rank), \"id\": \(jsonString(h.id)), \"score\": \(jsonNumber(h.score)), \"captions\": ["
                + h.captions.map(jsonString).joined(separator: ", ") + "]}"
        }.joined(separator: ", ")
        return s + "]}"
    }

    /// The JSON line of a query that failed: `{"query": ..., "error": ...}`.
    public static func jsonError(query: String, error: Error) -> String {
        "{\"query\": " + jsonString(query) + ", \"error\": " + jsonString("\(error)") + "}"
    }

    /// Rank, score, id, then the captions indented below each hit.
    public static func text(query: String, hits: [SearchHit]) -> String {
        var lines = ["query: \(query)"]
        if hits.isEmpty { lines.append("  (the index holds no images)") }
        let idWidth = min(40, hits.map { $0.id.count }.max() ?? 2)
        for h in hits {
            lines.append(String(format: "%4d  %9.5f  ", h.rank, Double(h.score)) + h.id.padding(toLength: max(idWidth, h.id.count), withPad: " ", startingAt: 0))
            for c in h.captions { lines.append("                 - " + c) }
        }
        return lines.joined(separator: "\n")
    }

    /// The shortest decimal that reads back as the same float (non-finite values as null).
    public static func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }

    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
