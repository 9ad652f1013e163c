/// A ragged set of embedded items: item i owns rows `offsets[i] ..< offsets[i+1]` of a
/// contiguous (rows x dim) float32 matrix. Images (regions) and captions (words) both use it,
/// so that a varying number of regions or words per item costs nothing.
public struct EmbeddingSet: Sendable, Equatable {
    public var dim: Int
    public var offsets: [Int]
    /// rows x dim, row major.
    public var data: [Float]

    public init(dim: Int, offsets: [Int], data: [Float]) {
        precondition(offsets.first == 0 && offsets.last! * dim == data.count)
        self.dim = dim; self.offsets = offsets; self.data = data
    }

    public init(dim: Int) { self.init(dim: dim, offsets: [0], data: []) }

    /// Items of equal length, from a (count x length x dim) array.
    public init(uniform tensor: Tensor) {
        precondition(tensor.rank == 3)
        let (n, l) = (tensor.shape[0], tensor.shape[1])
        self.init(dim: tensor.shape[2], offsets: (0...n).map { $0 * l }, data: tensor.data)
    }

    public var count: Int { offsets.count - 1 }
    public var totalRows: Int { offsets.last! }
    public func length(_ i: Int) -> Int { offsets[i + 1] - offsets[i] }
    public var lengths: [Int] { (0..<count).map(length) }

    /// Item i as a (length x dim) tensor copy.
    public func item(_ i: Int) -> Tensor {
        Tensor(shape: [length(i), dim], data: Array(data[(offsets[i] * dim)..<(offsets[i + 1] * dim)]))
    }

    public mutating func append(_ rows: Tensor) {
        precondition(rows.rank == 2 && rows.shape[1] == dim)
        data.append(contentsOf: rows.data)
        offsets.append(offsets.last! + rows.shape[0])
    }

    public mutating func append(contentsOf other: EmbeddingSet) {
        precondition(other.dim == dim)
        let base = offsets.last!
        data.append(contentsOf: other.data)
        offsets.append(contentsOf: other.offsets.dropFirst().map { $0 + base })
    }

    /// Items `range` as a new set.
    public func subset(_ range: Range<Int>) -> EmbeddingSet {
        let lo = offsets[range.lowerBound], hi = offsets[range.upperBound]
        return EmbeddingSet(dim: dim, offsets: offsets[range.lowerBound...range.upperBound].map { $0 - lo },
                            data: Array(data[(lo * dim)..<(hi * dim)]))
    }

    /// The items at `indices`, in that order.
    public func gathered(_ indices: [Int]) -> EmbeddingSet {
        var out = EmbeddingSet(dim: dim)
        out.data.reserveCapacity(indices.reduce(0) { $0 + length($1) } * dim)
        for i in indices {
            out.data.append(contentsOf: data[(offsets[i] * dim)..<(offsets[i + 1] * dim)])
            out.offsets.append(out.offsets.last! + length(i))
        }
        return out
    }

    /// Mean of each item's rows: (count x dim).
    public func meanPooled() -> Tensor {
        var out = Tensor(zeros: [count, dim])
        data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    let n = length(i)
                    if n == 0 { continue }
                    let o = dst.baseAddress! + i * dim
                    for r in offsets[i]..<offsets[i + 1] {
                        let s = src.baseAddress! + r * dim
                        for k in 0..<dim { o[k] += s[k] }
                    }
                    let inv = 1 / Float(n)
                    for k in 0..<dim { o[k] *= inv }
                }
            }
        }
        return out
    }
}
