import Foundation
import SCANCore

/// Helpers shared by the feature sources.
enum SourceSupport {
    /// Index of the first NaN or infinite value, or nil.
    static func firstNonFinite(_ p: UnsafeBufferPointer<Float>) -> Int? {
        guard let base = p.baseAddress, !p.isEmpty else { return nil }
        var worst: UInt32 = 0
        for i in 0..<p.count { worst = max(worst, base[i].bitPattern & 0x7FFF_FFFF) }
        guard worst >= 0x7F80_0000 else { return nil }
        return (0..<p.count).first { !base[$0].isFinite }
    }

    /// Checks an image's features (regions x img_dim); `row` is its row in a precomp .npy.
    static func checkFinite(_ t: Tensor, file: String, record: String, row: Int? = nil) throws {
        if let i = t.data.withUnsafeBufferPointer({ firstNonFinite($0) }) {
            let cols = max(1, t.rank == 2 ? t.shape[1] : t.data.count)
            throw DatasetError.nonFiniteFeature(file: file, image: record, row: row, region: i / cols, dimension: i % cols,
                                              value: "\(t.data[i])")
        }
    }

    /// Scans `npy` (images x regions x `columns`) in parallel chunks; `recordOf(row)` names the image of a bad value.
    static func checkFinite(_ npy: NPYArray, file: String, rowSize: Int, columns: Int, recordOf: (Int) -> String) throws {
        let total = npy.count
        let chunk = 1 << 20
        let nChunks = (total + chunk - 1) / chunk
        var firstBad = [Int?](repeating: nil, count: nChunks)
        firstBad.withUnsafeMutableBufferPointer { bad in
            Parallel.forChunks(nChunks) { range in
                var buf = [Float](repeating: 0, count: chunk)
                for c in range {
                    let lo = c * chunk
                    let n = min(chunk, total - lo)
                    buf.withUnsafeMutableBufferPointer { b in
                        npy.copyFloats(offset: lo, count: n, into: b.baseAddress!)
                        if let i = firstNonFinite(UnsafeBufferPointer(rebasing: b[0..<n])) { bad[c] = lo + i }
                    }
                }
            }
        }
        if let flat = firstBad.lazy.compactMap({ $0 }).first {
            let row = flat / max(1, rowSize), within = flat % max(1, rowSize)
            var value: Float = 0
            withUnsafeMutablePointer(to: &value) { npy.copyFloats(offset: flat, count: 1, into: $0) }
            throw DatasetError.nonFiniteFeature(file: file, image: recordOf(row), row: row, region: within / max(1, columns),
                                              dimension: within % max(1, columns), value: "\(value)")
        }
    }

    /// The lines of a UTF-8 text file as Python iterates them ("\n" separated, a final newline does
    /// not start another line), with a trailing "\r" removed.
    static func readLines(_ path: String) throws -> [String] {
        let mapped: MappedFile
        do { mapped = try MappedFile(path: path) } catch { throw DatasetError.from(error, file: path) }
        defer { withExtendedLifetime(mapped) {} }  // `bytes` points into the map
        let bytes = mapped.bytes
        var lines: [String] = []
        var start = 0
        var lineNo = 1
        func add(_ end: Int) throws {
            var e = end
            if e > start && bytes[e - 1] == 0x0D { e -= 1 }
            guard let s = String(data: Data(UnsafeRawBufferPointer(rebasing: bytes[start..<e])), encoding: .utf8) else {
                throw DatasetError.malformedLine(file: path, line: lineNo, reason: "not valid UTF-8")
            }
            lines.append(s)
        }
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            try add(i)
            start = i + 1
            lineNo += 1
        }
        if start < bytes.count { try add(bytes.count) }
        return lines
    }

    /// Checks external ids: non-empty, at most 511 UTF-8 bytes (LMDB's key limit), unique.
    static func checkIDs(_ ids: [String], file: String, lineOf: (Int) -> Int = { $0 + 1 }) throws {
        var seen: [String: Int] = [:]
        seen.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() {
            if id.isEmpty { throw DatasetError.invalidID(file: file, line: lineOf(i), id: id, reason: "empty id") }
            if id.utf8.count > 511 { throw DatasetError.invalidID(file: file, line: lineOf(i), id: id, reason: "longer than 511 UTF-8 bytes") }
            if let j = seen[id] { throw DatasetError.invalidID(file: file, line: lineOf(i), id: id, reason: "duplicate of line \(lineOf(j))") }
            seen[id] = i
        }
    }
}
