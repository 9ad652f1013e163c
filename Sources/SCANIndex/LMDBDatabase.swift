import CLMDB

/// A named database inside an `LMDBEnvironment` (an LMDB `MDB_dbi` handle).
///
/// Handles are opened once per environment and stay valid for every transaction of that environment.
public struct LMDBDatabase: Sendable, Equatable {
    public let name: String
    let dbi: MDB_dbi

    init(name: String, dbi: MDB_dbi) {
        self.name = name
        self.dbi = dbi
    }
}
