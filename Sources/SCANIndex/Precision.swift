/// How encoded region vectors (and prefilter vectors) are stored.
public enum Precision: String, Codable, Sendable, CaseIterable {
    /// IEEE half precision, round to nearest even (relative error <= 2^-11 for normal values).
    case float16
    /// Symmetric int8 with one float32 scale per row: scale = max|x| / 127, x ~ q * scale (error <= scale / 2).
    case int8
    /// Bit-exact float32.
    case float32
    /// Product quantisation (regions only): each run of 4, 8, 16 or 32 consecutive dimensions is
    /// stored as one byte, the index of the nearest of 256 centroids trained on the collection at
    /// build time (the index's codebook). At 36 regions x 1024 dims: 9.2, 4.6, 2.3, 1.2 KB per image.
    case pq4, pq8, pq16, pq32

    /// The precisions that store each value on its own (no codebook).
    public static let scalar: [Precision] = [.float16, .int8, .float32]
    /// The product-quantised settings, largest first.
    public static let productQuantized: [Precision] = [.pq4, .pq8, .pq16, .pq32]

    /// Dimensions per code byte for product quantisation, nil for the scalar precisions.
    public var subDim: Int? {
        switch self {
        case .pq4: return 4
        case .pq8: return 8
        case .pq16: return 16
        case .pq32: return 32
        case .float16, .int8, .float32: return nil
        }
    }

    public var isProductQuantized: Bool { subDim != nil }

    /// Stored bytes per value of a scalar precision, not counting int8's per-row scale (1 for product quantisation: one byte per code).
    public var bytesPerValue: Int {
        switch self {
        case .float16: return 2
        case .int8: return 1
        case .float32: return 4
        case .pq4, .pq8, .pq16, .pq32: return 1
        }
    }

    /// Whether `dim`-dimensional rows can be stored with this precision.
    public func supports(dim: Int) -> Bool {
        guard let d = subDim else { return true }
        return dim > 0 && dim % d == 0
    }

    /// Payload bytes of `rows` x `dim` values (int8 adds 4 bytes of scale per row; product
    /// quantisation stores dim / subDim code bytes per row).
    public func payloadBytes(rows: Int, dim: Int) -> Int {
        if let d = subDim { return rows * (dim / d) }
        return rows * dim * bytesPerValue + (self == .int8 ? rows * 4 : 0)
    }

    var code: UInt8 {
        switch self {
        case .float32: return 1
        case .float16: return 2
        case .int8: return 3
        case .pq4: return 4
        case .pq8: return 5
        case .pq16: return 6
        case .pq32: return 7
        }
    }

    init?(code: UInt8) {
        switch code {
        case 1: self = .float32
        case 2: self = .float16
        case 3: self = .int8
        case 4: self = .pq4
        case 5: self = .pq8
        case 6: self = .pq16
        case 7: self = .pq32
        default: return nil
        }
    }
}
