import SCANCore

/// Errors of the index storage layer. Every case names the file or database, the record and the
/// field involved, and where it applies what was expected and what was found.
public enum IndexError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: LMDB and the index directory

    /// An LMDB call failed (`code` is LMDB's or errno's code, `message` its text).
    case lmdb(path: String, operation: String, code: Int32, message: String)
    /// The directory holds no index (no `data.mdb`, or no manifest in it).
    case missingIndex(path: String, reason: String)
    /// A named database that every index has is absent.
    case missingDatabase(path: String, name: String)
    /// The manifest does not parse or holds impossible values.
    case badManifest(path: String, reason: String)
    /// The manifest's format version is not one this build reads.
    case unsupportedFormatVersion(path: String, expected: Int, found: Int)
    /// The index is still being built (state `building`) and the reader did not allow that.
    case incompleteIndex(path: String, state: String)
    /// The index on disk was built for another model or layout than the writer asks for.
    case manifestMismatch(path: String, field: String, expected: String, found: String)
    /// Another process (or another writer in this process) is writing the index.
    case writerLocked(path: String)
    /// The environment is open read-only (its files are not writable) and a write was asked for.
    case readOnly(path: String)
    /// The LMDB map is full and could not be grown.
    case mapFull(path: String, mapSize: Int)

    // MARK: Records

    /// A stored value failed its checksum or does not decode; its contents are never returned.
    case corruptRecord(database: String, key: String, reason: String)
    /// A stored value that must exist is absent.
    case missingRecord(database: String, key: String)
    /// A record handed to the writer (or codec) is invalid: names the record, the field, expected vs found.
    case invalidRecord(record: String, field: String, expected: String, found: String)
    /// A caller-provided buffer cannot hold the decoded values.
    case bufferTooSmall(record: String, needed: Int, available: Int)

    // MARK: Files

    /// A file of the index (or its lock) cannot be opened or created.
    case cannotOpen(file: String, reason: String)
    /// Ids asked to be deleted that the index does not hold (nothing was deleted).
    case absentIDs(path: String, ids: [String])

    public var description: String {
        switch self {
        case let .lmdb(path, op, code, message):
            return "\(path): LMDB \(op) failed (\(code)): \(message)"
        case let .missingIndex(path, reason):
            return "\(path): no index: \(reason)"
        case let .missingDatabase(path, name):
            return "\(path): database '\(name)' is missing"
        case let .badManifest(path, reason):
            return "\(path): manifest: \(reason)"
        case let .unsupportedFormatVersion(path, e, f):
            return "\(path): manifest: format_version: expected \(e), found \(f)"
        case let .incompleteIndex(path, state):
            return "\(path): index is not complete (state '\(state)'); finish the build or open with allowIncomplete"
        case let .manifestMismatch(path, field, e, f):
            return "\(path): manifest: \(field): the writer expects \(e), the index has \(f)"
        case let .writerLocked(path):
            return "\(path): another writer holds the index (writer.lock)"
        case let .readOnly(path):
            return "\(path): the index is open read-only"
        case let .mapFull(path, size):
            return "\(path): LMDB map full at \(size) bytes"
        case let .corruptRecord(db, key, reason):
            return "database '\(db)', key \(key): corrupt record: \(reason)"
        case let .missingRecord(db, key):
            return "database '\(db)', key \(key): record missing"
        case let .invalidRecord(record, field, e, f):
            return "record \(record): \(field): expected \(e), found \(f)"
        case let .bufferTooSmall(record, needed, available):
            return "record \(record): output buffer holds \(available) floats, \(needed) needed"
        case let .cannotOpen(file, reason):
            return "\(file): cannot open: \(reason)"
        case let .absentIDs(path, ids):
            let list = ids.prefix(10).map { "'\($0)'" }.joined(separator: ", ") + (ids.count > 10 ? " and \(ids.count - 10) more" : "")
            return "\(path): \(ids.count) id\(ids.count == 1 ? " is" : "s are") not in the index: \(list); nothing was deleted"
        }
    }
}
