import Foundation
import SCANCore

/// The printed forms of search results.
public enum SearchOutput {
    /// One JSON object on one line: `{"query": ..., "unknown_words": [...], "results": [{"rank": 1, "id": ..., "score": ..., "captions": [...]}, ...]}`.
    /// `unknown_words` lists the query's words the model's vocabulary lacks (searched as <unk>); scan-search
    /// always passes them (an empty list when every word is known), nil leaves the key out.
    public static func jsonLine(query: String, hits: [SearchHit], unknownWords: [String]? = nil) -> String {
        var s = "{\"query\": " + JSONString.quoted(query)
        if let unknownWords { s += ", \"unknown_words\": [" + unknownWords.map { JSONString.quoted($0) }.joined(separator: ", ") + "]" }
        s += ", \"results\": ["
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

    /// Width of the id column of the text output: the same for every query, so that columns line up
    /// from one query to the next (a longer id pushes its own line's captions right).
    public static let textIDWidth = 24

    /// A header, then per hit its rank, score, id and first caption on one line, further captions below it.
    public static func text(query: String, hits: [SearchHit]) -> String {
        var lines = ["query: \(query)"]
        if hits.isEmpty {
            lines.append("  (the index holds no images)")
            return lines.joined(separator: "\n")
        }
        let lead = String(repeating: " ", count: 17)
        func pad(_ id: String) -> String { id.count >= textIDWidth ? id : id.padding(toLength: textIDWidth, withPad: " ", startingAt: 0) }
        lines.append("rank      score  " + pad("id") + "  captions")
        for h in hits {
            let first = h.captions.first ?? ""
            let row = String(format: "%4d  %9.5f  ", h.rank, Double(h.score)) + pad(h.id) + (first.isEmpty ? "" : "  " + first)
            lines.append(row)
            for c in h.captions.dropFirst() { lines.append(lead + String(repeating: " ", count: textIDWidth) + "  " + c) }
        }
        return lines.joined(separator: "\n")
    }

    /// The shortest decimal that reads back as the same float (non-finite values as null).
    public static func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }

}
