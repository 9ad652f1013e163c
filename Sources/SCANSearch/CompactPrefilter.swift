import CSCANKernels
import Foundation
import SCANCore
import SCANIndex

/// The compact first stage: every image's prefilter vector kept in memory as 4-bit codes (P / 2
/// bytes per image: 128 at the fitted prefilter's P = 256, against 1 KB of float32), scored with
/// integer products, then a shortlist of the best rescored with the exact float vectors read from
/// the index (LMDB, through the snapshot), so that the candidates are the float prefilter's best.
///
/// Codes are uniform per dimension between the 0.1% and 99.9% quantiles of the stored vectors
/// (values outside are clamped). The ranges are taken from the vectors present when the searcher
/// loads them and retaken (everything re-encoded from the index) each time a small collection has
/// doubled since, up to `calibrationRows`; images committed later are encoded with the ranges as
/// they are, and a searcher that opens the index again calibrates on the whole collection then.
///
/// Concurrency: the codes are immutable segments; a search copies the list of segments under a
/// lock and scores without it, so concurrent queries do not serialise and `extend` can run meanwhile.
public final class CompactPrefilter: @unchecked Sendable {
    /// Codes of images `start ..< start + count`, never changed once built.
    final class Segment: @unchecked Sendable {
        let start: Int
        let count: Int
        let codes: [UInt8]
        init(start: Int, count: Int, codes: [UInt8]) { self.start = start; self.count = count; self.codes = codes }
    }

    /// Per-dimension ranges of one calibration, immutable.
    final class Calibration: @unchecked Sendable {
        let lo: [Float]
        let step: [Float]
        let rows: Int
        init(lo: [Float], step: [Float], rows: Int) { self.lo = lo; self.step = step; self.rows = rows }
    }

    struct State {
        var calibration: Calibration?
        var segments: [Segment] = []
        var count = 0
    }

    public let dim: Int
    /// Bytes per image: two dimensions per byte (dimension j low nibble, dimension half + j high nibble).
    public let half: Int
    /// Up to this many images calibrate the ranges (a larger collection keeps its calibration until reopened).
    public var calibrationRows = 65_536
    private var state = State()
    private let lock = NSLock()

    public init(dim: Int) {
        self.dim = dim
        half = (dim + 1) / 2
    }

    public var bytesPerImage: Int { half }
    public var count: Int { lock.lock(); defer { lock.unlock() }; return state.count }
    public var residentBytes: Int { count * half }

    /// Encodes the images committed since the last call (`count ..< snapshot.count`). Callers serialise calls.
    @discardableResult
    public func extend(from snapshot: IndexSnapshot) throws -> [UInt64: String] {
        let current = { self.lock.lock(); defer { self.lock.unlock() }; return self.state }()
        let target = snapshot.count
        guard target > current.count else { return [:] }
        let recalibrate = current.calibration == nil || (current.calibration!.rows < calibrationRows && target >= 2 * current.calibration!.rows)
        let from = recalibrate ? 0 : current.count
        var corrupt: [UInt64: String] = [:]
        let values = try PrefilterVectorReader.read(snapshot, from: from, to: target, dim: dim, corrupt: &corrupt)
        var next = current
        if recalibrate {
            next.calibration = Self.calibrate(values, rows: target, dim: dim, limit: calibrationRows)
            next.segments = []
        }
        next.segments.append(Segment(start: from, count: target - from, codes: encode(values, rows: target - from, calibration: next.calibration!)))
        next.count = target
        lock.lock()
        state = next
        lock.unlock()
        return corrupt
    }

    /// Appends rows given directly (count x dim values), e.g. to measure scoring without an index;
    /// the first call calibrates.
    public func append(rows values: [Float]) {
        let n = values.count / dim
        lock.lock()
        defer { lock.unlock() }
        if state.calibration == nil { state.calibration = Self.calibrate(values, rows: n, dim: dim, limit: calibrationRows) }
        state.segments.append(Segment(start: state.count, count: n, codes: encode(values, rows: n, calibration: state.calibration!)))
        state.count += n
    }

    static func calibrate(_ values: [Float], rows: Int, dim: Int, limit: Int) -> Calibration {
        let stride = max(1, rows / max(1, limit))
        var lo = [Float](repeating: 0, count: dim), step = [Float](repeating: 1, count: dim)
        var column: [Float] = []
        for j in 0..<dim {
            column.removeAll(keepingCapacity: true)
            var r = 0
            while r < rows { column.append(values[r * dim + j]); r += stride }
            column.sort()
            let a = column[Int((Double(column.count - 1) * 0.001).rounded())], b = column[Int((Double(column.count - 1) * 0.999).rounded())]
            lo[j] = a
            step[j] = b > a ? (b - a) / 15 : 1e-6
        }
        return Calibration(lo: lo, step: step, rows: rows)
    }

    func encode(_ values: [Float], rows: Int, calibration c: Calibration) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: rows * half)
        let p = dim, h = half
        // Padded per-dimension offsets and inverse steps (a padding dimension always codes 0).
        var lo = [Float](repeating: 0, count: 2 * h), inv = [Float](repeating: 0, count: 2 * h)
        for d in 0..<p { lo[d] = c.lo[d]; inv[d] = 1 / c.step[d] }
        codes.withUnsafeMutableBufferPointer { out in
            values.withUnsafeBufferPointer { vp in
                lo.withUnsafeBufferPointer { lp in
                    inv.withUnsafeBufferPointer { ip in
                        let o = out.baseAddress!, v = vp.baseAddress!, l = lp.baseAddress!, iv = ip.baseAddress!
                        Parallel.forChunks(rows, minChunk: 1024) { range in
                            var row = [Float](repeating: 0, count: 2 * h)
                            row.withUnsafeMutableBufferPointer { rb in
                                let x = rb.baseAddress!
                                for r in range {
                                    (x).update(from: v + r * p, count: p)
                                    for j in 0..<(2 * h) {
                                        let t = ((x[j] - l[j]) * iv[j]).rounded()
                                        x[j] = t.isNaN ? 0 : max(0, min(15, t))
                                    }
                                    for j in 0..<h { o[r * h + j] = UInt8(x[j]) | (UInt8(x[j + h]) << 4) }
                                    if p < 2 * h { x[p] = 0 }
                                }
                            }
                        }
                    }
                }
            }
        }
        return codes
    }

    /// Approximate scores (a monotone function of the code-space dot product) of images `0 ..< rows`.
    public func approximateScores(_ query: [Float], rows: Int) -> [Float] {
        let st = { self.lock.lock(); defer { self.lock.unlock() }; return self.state }()
        precondition(query.count == dim && rows <= st.count)
        var out = [Float](repeating: 0, count: rows)
        guard rows > 0, let c = st.calibration else { return out }
        var w = [Float](repeating: 0, count: 2 * half)
        for j in 0..<dim { w[j] = query[j] * c.step[j] }
        let m = w.reduce(Float(0)) { max($0, abs($1)) }
        let scale = m > 0 ? 32767 / m : 0
        let wq = w.map { Int16(max(-32767, min(32767, ($0 * scale).rounded()))) }
        let wLo = Array(wq[0..<half]), wHi = Array(wq[half..<(2 * half)])
        var ints = [Int32](repeating: 0, count: rows)
        ints.withUnsafeMutableBufferPointer { ip in
            let o = ip.baseAddress!
            for seg in st.segments where seg.start < rows {
                let n = min(seg.count, rows - seg.start)
                seg.codes.withUnsafeBufferPointer { cp in
                    wLo.withUnsafeBufferPointer { lp in wHi.withUnsafeBufferPointer { hp in
                        let cb = cp.baseAddress!, h = half
                        Parallel.forChunks(n, minChunk: 8192) { range in
                            scan_sq4_scores(cb + range.lowerBound * h, range.count, h, lp.baseAddress!, hp.baseAddress!, o + seg.start + range.lowerBound)
                        }
                    }}
                }
            }
        }
        for i in 0..<rows { out[i] = Float(ints[i]) }
        return out
    }

    /// Shortlist size for `k` candidates out of `rows`: max(factor x k, k + minimum), measured by
    /// `scan-bench first-stage` (README) to keep at least 99% of the float32 top K.
    public var shortlistFactor = 2.0
    public var shortlistMinimum = 256
    public func shortlist(k: Int, rows: Int) -> Int { min(rows, max(Int((Double(k) * shortlistFactor).rounded(.up)), k + shortlistMinimum)) }

    /// The best `k` images of `snapshot` (keys `0 ..< snapshot.count`, loaded by `extend`) by the float
    /// prefilter score, found through the codes and the rescored shortlist; scores are the exact ones.
    /// Keys in `excluding` (deleted images) are never returned.
    public func candidates(_ query: [Float], k: Int, snapshot s: IndexSnapshot, excluding: Set<UInt64> = []) throws -> (keys: [UInt64], scores: [Float]) {
        let rows = s.count
        var approx = approximateScores(query, rows: rows)
        var excluded = 0
        for d in excluding where d < UInt64(rows) { approx[Int(d)] = -.infinity; excluded += 1 }
        let short = TopK.select(approx, k: shortlist(k: k, rows: rows - excluded))
        var exact = [Float](repeating: 0, count: short.count)
        var errors = [Error?](repeating: nil, count: short.count)
        let p = dim
        exact.withUnsafeMutableBufferPointer { ex in
            errors.withUnsafeMutableBufferPointer { errs in
                query.withUnsafeBufferPointer { qp in
                    Parallel.forChunks(short.count, minChunk: 256) { range in
                        for i in range {
                            do {
                                let v = try s.prefilter(UInt64(short[i]))
                                ex[i] = v.withUnsafeBufferPointer { scan_dot($0.baseAddress!, qp.baseAddress!, p) }
                            } catch { errs[i] = error }
                        }
                    }
                }
            }
        }
        if let e = errors.first(where: { $0 != nil }) { throw e! }
        let best = TopK.select(exact, k: k)
        return (best.map { UInt64(short[$0]) }, best.map { exact[$0] })
    }
}
