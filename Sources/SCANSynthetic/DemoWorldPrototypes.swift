/// The fixed feature prototype of every concept: a sparse non-negative vector (about 5% non-zero
/// dimensions, exponentially distributed magnitudes), like a pooled ReLU feature. Object prototypes
/// share part of a category prototype (person, animal, vehicle, thing), so that a dog looks more like
/// a cat than like a bus.
public struct DemoWorldPrototypes: Sendable {
    /// A sparse vector: `values[k]` at dimension `indices[k]` (distinct, increasing).
    public struct Sparse: Sendable, Equatable {
        public var indices: [Int32]
        public var values: [Float]
    }

    public let imgDim: Int
    /// Non-zero dimensions of each base prototype.
    public let nonZeros: Int
    /// Weight of the category prototype in an object prototype.
    public static let categoryWeight: Float = 0.35

    private let table: [DemoWorldConcept.Kind: [Sparse]]

    public init(catalog: DemoWorldCatalog, imgDim: Int, seed: UInt64) {
        self.imgDim = imgDim
        let k = max(4, Int((0.05 * Double(imgDim)).rounded()))
        nonZeros = k
        func draw(_ stream: UInt64, _ index: Int) -> [Float] {
            var rng = DemoWorldRandom(seed: seed, 0xC0C0, stream, UInt64(index))
            var dense = [Float](repeating: 0, count: imgDim)
            for d in rng.sample(k, of: imgDim) { dense[d] = 0.25 + 1.75 * rng.exponential() }
            return dense
        }
        let categories = ["person", "animal", "vehicle", "thing"]
        let categoryDense = categories.indices.map { draw(9, $0) }
        var table: [DemoWorldConcept.Kind: [Sparse]] = [:]
        for (stream, kind) in DemoWorldConcept.Kind.allCases.enumerated() {
            table[kind] = catalog.concepts(kind).enumerated().map { index, concept in
                var dense = draw(UInt64(stream + 1), index)
                if kind == .object, let c = concept.category, let ci = categories.firstIndex(of: c) {
                    for d in 0..<imgDim { dense[d] += Self.categoryWeight * categoryDense[ci][d] }
                }
                return Self.sparse(dense)
            }
        }
        self.table = table
    }

    static func sparse(_ dense: [Float]) -> Sparse {
        var s = Sparse(indices: [], values: [])
        for (d, v) in dense.enumerated() where v != 0 {
            s.indices.append(Int32(d))
            s.values.append(v)
        }
        return s
    }

    /// The prototype of concept `index` of `kind` (an index into the catalog's list of that kind).
    public func prototype(_ kind: DemoWorldConcept.Kind, _ index: Int) -> Sparse { table[kind]![index] }

    /// The prototype as a dense vector of `imgDim` values.
    public func dense(_ kind: DemoWorldConcept.Kind, _ index: Int) -> [Float] {
        var out = [Float](repeating: 0, count: imgDim)
        let p = prototype(kind, index)
        for (i, v) in zip(p.indices, p.values) { out[Int(i)] = v }
        return out
    }
}
