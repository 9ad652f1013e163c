/// The regions of several images decoded into one contiguous row-major matrix
/// (all their regions stacked, `totalRows` x `dim`), e.g. for one large matrix product.
public struct RegionBatch: Sendable {
    /// The images, in the order they were asked for.
    public var keys: [UInt64]
    /// Image i's regions are rows `rowOffsets[i] ..< rowOffsets[i + 1]` (keys.count + 1 entries).
    public var rowOffsets: [Int]
    /// totalRows x dim values.
    public var values: [Float]
    public var dim: Int

    public var totalRows: Int { rowOffsets.last ?? 0 }

    public init(keys: [UInt64], rowOffsets: [Int], values: [Float], dim: Int) {
        precondition(rowOffsets.count == keys.count + 1 && values.count == (rowOffsets.last ?? 0) * dim)
        self.keys = keys
        self.rowOffsets = rowOffsets
        self.values = values
        self.dim = dim
    }

    /// Rows of image i.
    public func rows(of i: Int) -> Range<Int> { rowOffsets[i]..<rowOffsets[i + 1] }
}
