import Foundation
import CSCANKernels
import SCANCore

/// A trained product quantiser of `dim`-dimensional region vectors: dim / subDim sub-spaces of
/// subDim consecutive dimensions, each with its own `centroidCount` (<= 256) centroids, so that a
/// vector is stored as one byte per sub-space. The index keeps one (its codebook) in the
/// `manifest` database under `codebook`, as a checksummed record written once, before the first
/// region record that uses it.
public struct ProductQuantizer: Sendable, Equatable {
    public let dim: Int
    public let subDim: Int
    public let centroidCount: Int
    /// [sub-space][centroid][j], subspaces x centroidCount x subDim values.
    public let centroids: [Float]
    /// The same values as [sub-space][j][centroid], for the assignment kernel.
    let transposed: [Float]
    /// Squared norms, [sub-space][centroid].
    let norms: [Float]

    public var subspaces: Int { dim / subDim }
    /// Code bytes per vector.
    public var codeBytes: Int { subspaces }

    /// Checks the shapes; `centroids` is [sub-space][centroid][j].
    public init(dim: Int, subDim: Int, centroidCount: Int, centroids: [Float]) throws {
        guard subDim > 0, dim > 0, dim % subDim == 0 else {
            throw IndexError.invalidRecord(record: "codebook", field: "sub_dim", expected: "a divisor of dim \(dim)", found: "\(subDim)")
        }
        guard (1...256).contains(centroidCount) else {
            throw IndexError.invalidRecord(record: "codebook", field: "centroids", expected: "1...256 per sub-space", found: "\(centroidCount)")
        }
        let (values, overflow) = dim.multipliedReportingOverflow(by: centroidCount)
        guard !overflow, centroids.count == values else {
            throw IndexError.invalidRecord(record: "codebook", field: "values", expected: "\(dim) x \(centroidCount) values", found: "\(centroids.count)")
        }
        if let bad = centroids.firstIndex(where: { !$0.isFinite }) {
            throw IndexError.invalidRecord(record: "codebook", field: "values[\(bad)]", expected: "a finite value", found: "\(centroids[bad])")
        }
        self.dim = dim
        self.subDim = subDim
        self.centroidCount = centroidCount
        self.centroids = centroids
        let m = dim / subDim, c = centroidCount, d = subDim
        var t = [Float](repeating: 0, count: centroids.count)
        var n = [Float](repeating: 0, count: m * c)
        for s in 0..<m {
            for k in 0..<c {
                var sq: Float = 0
                for j in 0..<d {
                    let v = centroids[(s * c + k) * d + j]
                    t[(s * d + j) * c + k] = v
                    sq += v * v
                }
                n[s * c + k] = sq
            }
        }
        transposed = t
        norms = n
    }

    /// XXH64 of the shape and the centroids' float32 bits (little-endian), 16 hex digits: equal
    /// exactly when two codebooks give every code the same meaning. Named in the manifest and in a
    /// shard set's fingerprint.
    public var fingerprint: String {
        var bytes: [UInt8] = Array("scan-pq-codebook-v1".utf8)
        for v in [dim, subDim, centroidCount] { withUnsafeBytes(of: UInt64(v).littleEndian) { bytes += $0 } }
        bytes.reserveCapacity(bytes.count + centroids.count * 4)
        for v in centroids { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        return String(format: "%016llx", XXH64.hash(bytes))
    }

    public static func == (a: ProductQuantizer, b: ProductQuantizer) -> Bool {
        a.dim == b.dim && a.subDim == b.subDim && a.centroidCount == b.centroidCount && a.centroids == b.centroids
    }

    /// Writes the codes of `rows` vectors (row-major, dim floats each) to `codes` (rows x codeBytes).
    /// A vector's code does not depend on the rows encoded with it, nor on the CPU.
    public func encode(_ x: UnsafePointer<Float>, rows: Int, into codes: UnsafeMutablePointer<UInt8>) {
        transposed.withUnsafeBufferPointer { t in
            norms.withUnsafeBufferPointer { n in
                scan_pq_assign(x, rows, dim, subDim, centroidCount, t.baseAddress!, n.baseAddress!, codes)
            }
        }
    }

    /// `encode` through one chosen path of the kernel (tests, benchmarks); false, writing nothing,
    /// when the CPU lacks it.
    public func encode(_ x: UnsafePointer<Float>, rows: Int, into codes: UnsafeMutablePointer<UInt8>, path: ProductQuantizerAssignmentPath) -> Bool {
        transposed.withUnsafeBufferPointer { t in
            norms.withUnsafeBufferPointer { n in
                scan_pq_assign_path(path.code, x, rows, dim, subDim, centroidCount, t.baseAddress!, n.baseAddress!, codes) == 0
            }
        }
    }

    /// Reconstructs `rows` vectors from their codes. A code outside the codebook is a corrupt record.
    public func decode(_ codes: UnsafePointer<UInt8>, rows: Int, into out: UnsafeMutablePointer<Float>) -> Bool {
        centroids.withUnsafeBufferPointer { cb in
            scan_pq_decode(codes, rows, subspaces, subDim, centroidCount, cb.baseAddress!, out) == 0
        }
    }

    /// The codebook as a checksummed record (kind `codebook`, float32, rows = subspaces x centroids, dim = subDim).
    public func record() throws -> [UInt8] {
        try RecordCodec(precision: .float32, compressionLevel: 0).encodeCodebook(centroids, rows: subspaces * centroidCount, subDim: subDim)
    }

    /// Parses a stored codebook for `dim`-dimensional regions.
    public static func decode(_ value: UnsafeRawBufferPointer, dim: Int, database: String, key: String) throws -> ProductQuantizer {
        let h = try RecordCodec.header(of: value, kind: .codebook, database: database, key: key)
        guard h.dim > 0, dim % h.dim == 0, h.rows % (dim / h.dim) == 0 else {
            throw IndexError.corruptRecord(database: database, key: key, reason: "codebook of \(h.rows) x \(h.dim) does not fit embed_dim \(dim)")
        }
        var values = [Float](repeating: 0, count: h.valueCount)
        try values.withUnsafeMutableBufferPointer { _ = try RecordCodec.decode(value, kind: .codebook, database: database, key: key, into: $0) }
        do {
            return try ProductQuantizer(dim: dim, subDim: h.dim, centroidCount: h.rows / (dim / h.dim), centroids: values)
        } catch let IndexError.invalidRecord(_, field, expected, found) {
            throw IndexError.corruptRecord(database: database, key: key, reason: "\(field): expected \(expected), found \(found)")
        }
    }
}
