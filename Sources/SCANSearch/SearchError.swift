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
    /// Ids of a source are in the index already, appended from another source (default ids are row
    /// numbers, so two .npy files collide).
    case idCollision(index: String, source: String, count: Int, sourceCount: Int, otherSources: [String], examples: [String])
    /// A model's prefilter is not the one the index was built with.
    case otherPrefilter(index: String, indexPrefilter: String, model: String, modelPrefilter: String)

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
            return "\(index): the prefilter of the index's model copy is not the one the index was built with: \(reason). "
                + "\(index)/model/prefilter.safetensors was replaced after the build (e.g. by scan-prefilter fit --force --model \(index)/model): "
                + "put the original back, or build a new index"
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
        case let .idCollision(index, source, count, sourceCount, others, examples):
            let ex = examples.prefix(5).map { "'\($0)'" }.joined(separator: ", ") + (count > 5 ? ", ..." : "")
            let changed = others.contains(source) ? "; \(source) itself has changed since it was appended" : ""
            return "\(source): \(count) of its \(sourceCount) ids are already in the index \(index), appended from another source "
                + "(\(others.joined(separator: ", "))\(changed)): \(ex). Nothing was appended. Without --ids a precomp .npy's ids are its row numbers, "
                + "so two .npy files collide: give this one its own ids with --ids FILE (one per image and line), or build a separate index; "
                + "to replace those images with this source's, give `scan-index add --replace`. (Re-running a build on the same source resumes it: ids it appended already are skipped.)"
        case let .otherPrefilter(index, ip, model, mp):
            return "\(index) was built with prefilter \(ip), but \(model) now has prefilter \(mp) "
                + "(prefilter.safetensors was refitted or removed since). The index keeps the prefilter it was built with: "
                + "add to it without --model (it uses its own copy \(index)/model), build a new index for the new prefilter, "
                + "or put the old prefilter.safetensors back. scan-prefilter fit keeps an existing prefilter unless --force is given."
        }
    }
}
