import CSCANKernels

/// The instruction-set paths of the nearest-centroid kernel. Every path gives the same codes (one
/// order of fused operations, the first of equal distances); `ProductQuantizer.encode` runs the
/// fastest the CPU has. Tests compare them, the codec benchmark times them.
public enum ProductQuantizerAssignmentPath: String, CaseIterable, Sendable {
    /// Scalar, sub-space outer over blocks of rows.
    case portable
    case avx2
    case avx512
    /// The first kernel's loop, row by row over the whole codebook: the benchmark's yardstick.
    case rowwise

    var code: Int32 {
        switch self {
        case .portable: Int32(SCAN_PQ_PORTABLE)
        case .avx2: Int32(SCAN_PQ_AVX2)
        case .avx512: Int32(SCAN_PQ_AVX512)
        case .rowwise: Int32(SCAN_PQ_ROWWISE)
        }
    }

    /// The path `encode` runs on this CPU.
    public static var fastest: ProductQuantizerAssignmentPath {
        switch Int(scan_pq_best_path()) {
        case Int(SCAN_PQ_AVX512): .avx512
        case Int(SCAN_PQ_AVX2): .avx2
        default: .portable
        }
    }

    /// Whether this CPU can run the path.
    public var isAvailable: Bool {
        switch self {
        case .portable, .rowwise: true
        case .avx2: Self.fastest == .avx2 || Self.fastest == .avx512
        case .avx512: Self.fastest == .avx512
        }
    }
}
