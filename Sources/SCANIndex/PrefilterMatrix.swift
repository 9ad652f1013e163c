/// All prefilter vectors of a snapshot, resident as one contiguous row-major float32 matrix
/// (`count` x `dim`) in internal key order.
public struct PrefilterMatrix: Sendable {
    /// Internal key of each row.
    public var keys: [UInt64]
    /// count x dim values.
    public var values: [Float]
    public var dim: Int
    /// LMDB transaction id of the snapshot the matrix was read from.
    public var transactionID: Int

    public var count: Int { keys.count }

    public init(keys: [UInt64], values: [Float], dim: Int, transactionID: Int) {
        precondition(values.count == keys.count * dim)
        self.keys = keys
        self.values = values
        self.dim = dim
        self.transactionID = transactionID
    }

    /// A copy of row `i`.
    public func row(_ i: Int) -> [Float] { Array(values[(i * dim)..<((i + 1) * dim)]) }
}
