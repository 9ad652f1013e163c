/// How encoded region vectors (and prefilter vectors) are stored.
public enum Precision: String, Codable, Sendable, CaseIterable {
    /// IEEE half precision, round to nearest even (relative error <= 2^-11 for normal values). The default.
    case float16
    /// Symmetric int8 with one float32 scale per row: scale = max|x| / 127, x ~ q * scale (error <= scale / 2).
    case int8
    /// Bit-exact float32.
    case float32

    /// Stored bytes per value, not counting int8's per-row scale.
    public var bytesPerValue: Int {
        switch self { case .float16: return 2; case .int8: return 1; case .float32: return 4 }
    }

    /// Payload bytes of `rows` x `dim` values (int8 adds 4 bytes of scale per row).
    public func payloadBytes(rows: Int, dim: Int) -> Int {
        rows * dim * bytesPerValue + (self == .int8 ? rows * 4 : 0)
    }

    var code: UInt8 {
        switch self { case .float32: return 1; case .float16: return 2; case .int8: return 3 }
    }

    init?(code: UInt8) {
        switch code { case 1: self = .float32; case 2: self = .float16; case 3: self = .int8; default: return nil }
    }
}
