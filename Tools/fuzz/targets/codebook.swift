// A stored codebook record (SCANIndex/ProductQuantizer.swift `decode(_:dim:database:key:)`, read from
// the manifest database when a pq index opens). Byte 0: bit 0 patches in the right checksum (as in
// the record target); byte 1 chooses the index's embed_dim (which comes from the manifest, outside
// input too) among values that fit and values that cannot; the rest is the value. A codebook that
// parses is used: vectors are encoded with it (every kernel path the CPU has) and decoded back.
import Foundation
@testable import SCANIndex

private let dims = [16, 4, 8, 12, 64, 1024, 1, 3, 32, 96, 1 << 20, 1 << 32, 1 << 40, Int.max / 2, Int.max, 2048]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodebook(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 2, let data else { return 0 }
    let value = recordValue(data, size, skip: 2, patch: data[0] & 1 == 1, headerSize: RecordHeader.size, checksum: RecordHeader.checksum)
    let dim = dims[Int(data[1]) % dims.count]
    expectTypedError("codebook", { $0 is IndexError }) {
        let pq = try value.withUnsafeBytes { try ProductQuantizer.decode($0, dim: dim, database: "manifest", key: "codebook") }
        // Parsed: written back it parses to the same codebook, and it encodes and decodes.
        let again = try pq.record().withUnsafeBytes { try ProductQuantizer.decode($0, dim: dim, database: "manifest", key: "codebook") }
        if again != pq { fatalError("codebook: written back, parsed differently") }
        let rows = 3
        guard pq.dim <= 1 << 16 else { return }
        var x = [Float](repeating: 0, count: rows * pq.dim)
        for i in x.indices { x[i] = Float((i * 29) % 23) / 11 - 1 }
        // Large centroids: the kernel's guarded path, and infinite distances.
        if data[0] & 2 == 2 { for i in stride(from: 0, to: x.count, by: 5) { x[i] *= 1e30 } }
        var codes = [UInt8](repeating: 0, count: rows * pq.codeBytes)
        var back = [Float](repeating: 0, count: rows * pq.dim)
        x.withUnsafeBufferPointer { xp in
            codes.withUnsafeMutableBufferPointer { cp in
                var first: [UInt8]?
                for path in ProductQuantizerAssignmentPath.allCases where path.isAvailable {
                    guard pq.encode(xp.baseAddress!, rows: rows, into: cp.baseAddress!, path: path) else { fatalError("codebook: \(path) refused") }
                    if let f = first, f != Array(cp) { fatalError("codebook: \(path) gave other codes") }
                    first = Array(cp)
                }
                back.withUnsafeMutableBufferPointer { bp in
                    if !pq.decode(cp.baseAddress!, rows: rows, into: bp.baseAddress!) { fatalError("codebook: its own codes are beyond it") }
                }
            }
        }
    }
    return 0
}
