import SCANIndex

/// Errors of building and searching an index, in words a user can act on.
public enum SearchError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No index at `path` (the directory or its LMDB files or manifest are missing).
    case noIndex(path: String, reason: String)
    /// Several or no indexes under the default folder and none was named.
    case noIndexChosen(folder: String, found: [String])
    /// The index's copy of its model is missing or incomplete.
    case missingModelCopy(index: String, reason: String)
    /// The model copy inside the index is not the model the index was built with.
    case modelMismatch(index: String, manifestFingerprint: String, copyFingerprint: String)
    /// A model given on the command line differs from the index's model.
    case otherModel(index: String, indexFingerprint: String, model: String, modelFingerprint: String)
    /// The prefilter of the model copy is not the one recorded in the manifest.
    case prefilterMismatch(index: String, reason: String)
    /// The query has no words.
    case emptyQuery
    /// A stored record failed its checks while searching; the image is named by its external id when readable.
    case corruptRecord(id: String?, key: UInt64, database: String, reason: String)
    /// A feature source cannot be used with the model.
    case badSource(path: String, reason: String)
    /// Invalid arguments to a library call.
    case invalidArgument(String)
    /// Retention study: query captions whose image is not in the index.
    case unknownImages(ids: [String])

    public var description: String {
        switch self {
        case let .noIndex(path, reason):
            return "no index at \(path): \(reason) (build one with `scan-index build --model DIR --features PATH --index \(path)`)"
        case let .noIndexChosen(folder, found):
            if found.isEmpty { return "no index given and none under \(folder)/: pass --index DIR or --name NAME" }
            return "no index given and \(found.count) under \(folder)/ (\(found.joined(separator: ", "))): pass --index DIR or --name NAME"
        case let .missingModelCopy(index, reason):
            return "\(index): the index's model copy is unusable: \(reason)"
        case let .modelMismatch(index, m, c):
            return "\(index): the index was built by model \(m), but its model copy (\(index)/model) is model \(c): the copy was replaced or damaged; rebuild the index"
        case let .otherModel(index, i, model, f):
            return "\(index): the index was built by model \(i), but \(model) is model \(f); use the index's own model (omit --model) or build a new index"
        case let .prefilterMismatch(index, reason):
            return "\(index): prefilter: \(reason)"
        case .emptyQuery:
            return "empty query: give at least one word"
        case let .corruptRecord(id, key, db, reason):
            let who = id.map { "image '\($0)' (key \(key))" } ?? "image key \(key)"
            return "\(who): database '\(db)': corrupt record: \(reason); run `scan-index verify`"
        case let .badSource(path, reason):
            return "\(path): \(reason)"
        case let .invalidArgument(s):
            return s
        case let .unknownImages(ids):
            return "\(ids.count) query image id(s) are not in the index: \(ids.prefix(10).joined(separator: ", "))\(ids.count > 10 ? ", ..." : "")"
        }
    }
}
