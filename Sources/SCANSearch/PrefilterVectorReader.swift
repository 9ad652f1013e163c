import Foundation
import SCANCore
import SCANIndex

/// Reads and decodes (checksums included) the stored prefilter vectors of internal keys
/// `start ..< end` of a snapshot, which must be dense, into one row-major float32 matrix. A vector
/// that fails its checks is an error, or with `corrupt` a row of zeros whose key and reason are
/// recorded there (a server keeps serving the other images).
enum PrefilterVectorReader {
    static func read(_ snapshot: IndexSnapshot, from start: Int, to end: Int, dim p: Int,
                     corrupt: UnsafeMutablePointer<[UInt64: String]>? = nil) throws -> [Float] {
        guard end > start else { return [] }
        let db = snapshot.databases.prefilter
        var values: [UnsafeRawBufferPointer] = []
        values.reserveCapacity(end - start)
        var expected = UInt64(start)
        try snapshot.forEach(db, from: IndexKey.encode(expected)) { k, v in
            guard let key = IndexKey.decode(k) else {
                throw IndexError.corruptRecord(database: db.name, key: "'" + String(decoding: k, as: UTF8.self) + "'", reason: "key is not 8 bytes")
            }
            guard key == expected else {
                throw IndexError.corruptRecord(database: db.name, key: String(expected), reason: "missing: the next stored key is \(key)")
            }
            values.append(v)
            expected += 1
            return expected < UInt64(end)
        }
        guard values.count == end - start else {
            throw IndexError.corruptRecord(database: db.name, key: String(expected),
                                           reason: "\(start + values.count) prefilter vectors, manifest image_count \(end)")
        }
        let n = values.count
        var out = [Float](repeating: 0, count: n * p)
        var errors = [Error?](repeating: nil, count: n)
        out.withUnsafeMutableBufferPointer { m in
            errors.withUnsafeMutableBufferPointer { errs in
                Parallel.forChunks(n, minChunk: 1024) { range in
                    for i in range {
                        let key = String(start + i)
                        do {
                            let h = try RecordCodec.header(of: values[i], kind: .vector, database: db.name, key: key)
                            guard h.valueCount == p else {
                                throw IndexError.corruptRecord(database: db.name, key: key, reason: "\(h.valueCount) values, manifest prefilter_dim \(p)")
                            }
                            try RecordCodec.decode(values[i], kind: .vector, database: db.name, key: key,
                                                   into: UnsafeMutableBufferPointer(rebasing: m[(i * p)..<((i + 1) * p)]))
                        } catch { errs[i] = error }
                    }
                }
            }
        }
        for (i, e) in errors.enumerated() {
            guard let e else { continue }
            guard let corrupt, case let IndexError.corruptRecord(_, _, reason) = e else { throw e }
            corrupt.pointee[UInt64(start + i)] = reason
            for j in (i * p)..<((i + 1) * p) { out[j] = 0 }
        }
        return out
    }
}
