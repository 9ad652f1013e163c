/// A dense float32 array in C (row-major) order with an explicit shape.
///
/// Storage is one contiguous `[Float]`; hot loops reach it through `withUnsafeBufferPointer`
/// so that copy-on-write never triggers inside them.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Number of values in one slice along the first axis.
    public var rowStride: Int { shape.dropFirst().reduce(1, *) }

    public subscript(_ i: Int, _ j: Int) -> Float {
        get { data[i * shape[1] + j] }
        set { data[i * shape[1] + j] = newValue }
    }

    public subscript(_ i: Int, _ j: Int, _ k: Int) -> Float {
        get { data[(i * shape[1] + j) * shape[2] + k] }
        set { data[(i * shape[1] + j) * shape[2] + k] = newValue }
    }

    /// A copy of slice `i` along the first axis.
    public func slice(_ i: Int) -> Tensor {
        let s = rowStride
        return Tensor(shape: Array(shape.dropFirst()), data: Array(data[(i * s)..<((i + 1) * s)]))
    }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }
}
