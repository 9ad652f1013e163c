import SCANModel

/// Names, shapes and positions of a configuration's parameters in one flat buffer, in the order of
/// `SCAN.parameterShapes` (text encoder first, then the image encoder: the original's order for
/// the total gradient norm).
public struct ParameterLayout: Equatable, Sendable {
    public let names: [String]
    public let shapes: [[Int]]
    /// Start of each parameter in the flat buffer; `offsets[names.count]` is the total count.
    public let offsets: [Int]
    private let index: [String: Int]

    public init(names: [String], shapes: [[Int]]) {
        precondition(names.count == shapes.count)
        self.names = names
        self.shapes = shapes
        var offs = [0]
        for s in shapes { offs.append(offs.last! + s.reduce(1, *)) }
        offsets = offs
        index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    }

    public init(config: ModelConfig) {
        let ps = SCAN.parameterShapes(config)
        self.init(names: ps.map(\.name), shapes: ps.map(\.shape))
    }

    /// Number of scalars over all parameters.
    public var totalCount: Int { offsets.last! }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The elements of `name` in the flat buffer.
    public func range(_ name: String) -> Range<Int> {
        guard let i = index[name] else { preconditionFailure("unknown parameter '\(name)'") }
        return offsets[i]..<offsets[i + 1]
    }

    public func shape(_ name: String) -> [Int] {
        guard let i = index[name] else { preconditionFailure("unknown parameter '\(name)'") }
        return shapes[i]
    }

    public static func == (a: ParameterLayout, b: ParameterLayout) -> Bool {
        a.names == b.names && a.shapes == b.shapes
    }
}

/// All parameters of a model (or their gradients, or an optimiser moment) in one flat buffer,
/// laid out by a `ParameterLayout`. One buffer makes clipping and Adam single loops, and lets the
/// layers address their weights by pointer without copies.
public struct ParameterSet<T: TrainScalar>: Sendable {
    public let layout: ParameterLayout
    public var data: [T]

    public init(zeros layout: ParameterLayout) {
        self.layout = layout
        data = [T](repeating: 0, count: layout.totalCount)
    }

    public init(layout: ParameterLayout, data: [T]) {
        precondition(data.count == layout.totalCount)
        self.layout = layout
        self.data = data
    }

    /// Copies named tensors in (names and shapes must match the layout; a 0-dim scalar may arrive as [1]).
    public init(layout: ParameterLayout, tensors: [String: Tensor], file: String = "<parameters>") throws {
        self.init(zeros: layout)
        for (i, name) in layout.names.enumerated() {
            guard let t = tensors[name] else { throw ModelError.missingWeight(file: file, name: name) }
            let shape = layout.shapes[i]
            guard t.shape == shape || (shape.isEmpty && t.count == 1) else {
                throw ModelError.weightShape(file: file, name: name, expected: shape, found: t.shape)
            }
            let base = layout.offsets[i]
            for (k, x) in t.data.enumerated() { data[base + k] = T(x) }
        }
    }

    /// Parameters of `config` from named tensors.
    public init(config: ModelConfig, tensors: [String: Tensor], file: String = "<parameters>") throws {
        try self.init(layout: ParameterLayout(config: config), tensors: tensors, file: file)
    }

    /// The values of one parameter (a copy).
    public subscript(name: String) -> [T] {
        get { Array(data[layout.range(name)]) }
        set {
            let r = layout.range(name)
            precondition(newValue.count == r.count)
            data.replaceSubrange(r, with: newValue)
        }
    }

    /// Every parameter as a named float32 tensor, with the layout's shapes.
    public func tensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, name) in layout.names.enumerated() {
            let r = layout.offsets[i]..<layout.offsets[i + 1]
            out[name] = Tensor(shape: layout.shapes[i], data: data[r].map { Float($0) })
        }
        return out
    }

    /// The same values in another precision.
    public func converted<U: TrainScalar>(to: U.Type) -> ParameterSet<U> {
        ParameterSet<U>(layout: layout, data: data.map { U($0) })
    }

    /// sqrt(sum of squares) over every element, accumulated in Double.
    public var l2Norm: Double {
        var s = 0.0
        data.withUnsafeBufferPointer { p in
            for x in p { let d = Double(x); s += d * d }
        }
        return s.squareRoot()
    }
}

/// Read-only pointers to a parameter set's tensors by name (valid inside `withPointers`).
struct ParameterPointers<T: TrainScalar> {
    let layout: ParameterLayout
    let base: UnsafePointer<T>
    func callAsFunction(_ name: String) -> UnsafePointer<T> { base + layout.range(name).lowerBound }
}

/// Mutable pointers to a gradient set's tensors by name.
struct GradientPointers<T: TrainScalar> {
    let layout: ParameterLayout
    let base: UnsafeMutablePointer<T>
    func callAsFunction(_ name: String) -> UnsafeMutablePointer<T> { base + layout.range(name).lowerBound }
}
