import CSCANKernels
import Foundation
import SCANCore
import SCANIndex

/// Every image's prefilter vector, kept in memory for the first search stage: row i is the image
/// with internal key i (keys are dense and append-only). Stored as float32 when a vector takes at
/// most 1 KB that way (P <= 256, the fitted prefilter's default), else as float16 converted per
/// block while scoring (the plain mean at embed 1024: 2 KB per image instead of 4 KB), so that the
/// resident data stays well inside 4 KB per image and the scoring pass reads as few bytes as possible.
public final class ResidentPrefilter: @unchecked Sendable {
    public enum Storage: String, Sendable { case float32, float16 }

    public let dim: Int
    public let storage: Storage
    /// Rows loaded (the images of the newest snapshot seen).
    public private(set) var count = 0
    private var f32: [Float] = []
    private var f16: [UInt16] = []

    /// float32 up to 1 KB per vector, float16 above.
    public static func defaultStorage(dim: Int) -> Storage { dim * 4 <= 1024 ? .float32 : .float16 }

    public init(dim: Int, storage: Storage? = nil) {
        self.dim = dim
        self.storage = storage ?? Self.defaultStorage(dim: dim)
    }

    /// Resident bytes per image.
    public var bytesPerImage: Int { dim * (storage == .float32 ? 4 : 2) }
    public var residentBytes: Int { count * bytesPerImage }

    /// Loads the vectors of the images `count ..< snapshot.count` (those committed since the last call).
    /// With `corrupt`, a vector failing its checks is loaded as zeros and recorded there instead of thrown.
    public func extend(from snapshot: IndexSnapshot, corrupt: UnsafeMutablePointer<[UInt64: String]>? = nil) throws {
        let target = snapshot.count
        guard target > count else { return }
        let fresh = try PrefilterVectorReader.read(snapshot, from: count, to: target, dim: dim, corrupt: corrupt)
        switch storage {
        case .float32:
            f32.append(contentsOf: fresh)
        case .float16:
            f16.append(contentsOf: Half.fromFloat(fresh))
        }
        count = target
    }

    /// Appends rows given directly (count x dim values), e.g. to measure scoring without an index.
    public func append(rows values: [Float]) {
        precondition(values.count % dim == 0)
        switch storage {
        case .float32: f32.append(contentsOf: values)
        case .float16: f16.append(contentsOf: Half.fromFloat(values))
        }
        count += values.count / dim
    }

    /// Dot products of `query` (dim values) with rows `0 ..< rows`, spread over the cores.
    public func scores(_ query: [Float], rows: Int) -> [Float] {
        precondition(query.count == dim && rows <= count)
        var out = [Float](repeating: 0, count: rows)
        if rows == 0 { return out }
        let p = dim
        let block = 512
        query.withUnsafeBufferPointer { qp in
            out.withUnsafeMutableBufferPointer { op in
                let q = qp.baseAddress!, o = op.baseAddress!
                switch storage {
                case .float32:
                    f32.withUnsafeBufferPointer { mp in
                        let m = mp.baseAddress!
                        Parallel.forChunks(rows, minChunk: 4096) { range in
                            for i in range { o[i] = scan_dot(m + i * p, q, p) }
                        }
                    }
                case .float16:
                    f16.withUnsafeBufferPointer { hp in
                        let h = hp.baseAddress!
                        Parallel.forChunks(rows, minChunk: 4096) { range in
                            var buf = [Float](repeating: 0, count: block * p)
                            buf.withUnsafeMutableBufferPointer { bp in
                                let b = bp.baseAddress!
                                var lo = range.lowerBound
                                while lo < range.upperBound {
                                    let hi = min(range.upperBound, lo + block)
                                    Half.toFloat(h + lo * p, b, count: (hi - lo) * p)
                                    for i in lo..<hi { o[i] = scan_dot(b + (i - lo) * p, q, p) }
                                    lo = hi
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
