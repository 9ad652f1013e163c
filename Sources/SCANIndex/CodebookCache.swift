import Foundation

/// The parsed codebook of an index, shared by the snapshots of one reader. A codebook is written once
/// and kept for the life of the index, but a snapshot cannot know that without looking, and parsing
/// it (a megabyte at pq4: checksum, values, the transposed copy and norms) cost every query a few
/// milliseconds. A snapshot now compares the stored bytes with the bytes the cached codebook was
/// parsed from (a memcmp, tens of microseconds) and parses only when they differ.
final class CodebookCache: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private var codebook: ProductQuantizer?

    /// The codebook stored in `txn`'s commit, nil when there is none.
    func codebook(_ txn: LMDBTransaction, databases: IndexDatabases, dim: Int) throws -> ProductQuantizer? {
        guard let stored = try txn.get(databases.manifest, key: IndexDatabases.codebookKey) else { return nil }
        lock.lock()
        if let cached = codebook, cached.dim == dim, stored.count > 0, bytes.count == stored.count,
           bytes.withUnsafeBytes({ memcmp($0.baseAddress!, stored.baseAddress!, stored.count) == 0 }) {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let parsed = try ProductQuantizer.decode(stored, dim: dim, database: IndexDatabases.manifestName, key: "codebook")
        lock.lock()
        bytes = Array(stored.bindMemory(to: UInt8.self))
        codebook = parsed
        lock.unlock()
        return parsed
    }
}
