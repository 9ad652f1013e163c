import Foundation
import SCANCore

/// The printed forms of search results.
public enum SearchOutput {
    /// One JSON object on one line: `{"query": ..., "results": [{"rank": 1, "id": ..., "score": ..., "captions": [...]}, ...]}`.
    public static func jsonLine(query: String, hits: [SearchHit]) -> String {
        var s = "{\"query\": " + JSONString.quoted(query) + ", \"results\": ["
        s += hits.map { h in
            "{\"rank\": \(h.rank), \"id\": \(JSONString.quoted(h.id)), \"score\": \(jsonNumber(h.score)), \"captions\": ["
                + h.captions.map { JSONString.quoted($0) }.joined(separator: ", ") + "]}"
        }.joined(separator: ", ")
        return s + "]}"
    }

    /// The JSON line of a query that failed: `{"query": ..., "error": ...}`.
    public static func jsonError(query: String, error: Error) -> String {
        "{\"query\": " + JSONString.quoted(query) + ", \"error\": " + JSONString.quoted("\(error)") + "}"
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

}
