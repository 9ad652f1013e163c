import CSCANKernels
import Foundation
import SCANCore
import SCANIndex

/// The compact first stage: every image's prefilter vector kept in memory as 4-bit codes (P / 2
/// bytes per image: 128 at the fitted prefilter's P = 256, against 1 KB of float32), scored by the
/// fast-scan kernel (CSCANFastScan.h: codes of 32 images per dimension side by side, the query's
/// 8-bit lookup table in vector registers), then a shortlist of the best rescored with the exact
/// float vectors read from the index (LMDB, through the snapshot), so that the candidates are the
/// float prefilter's best.
///
/// Codes are uniform per dimension between the 0.1% and 99.9% quantiles of the stored vectors
/// (values outside are clamped). The ranges are taken from the vectors present when the searcher
/// loads them (a sample of up to `calibrationRows` spread over the collection) and retaken
/// (everything re-encoded from the index) each time a small collection has doubled since, up to
/// `calibrationRows`; images committed later are encoded with the ranges as they are, and a
/// searcher that opens the index again calibrates on the whole collection then.
///
/// Concurrency: the codes are immutable segments; a search copies the list of segments under a
/// lock and scores without it, so concurrent queries do not serialise and `extend` can run meanwhile.
public final class CompactPrefilter: @unchecked Sendable {
    /// Codes of images `start ..< start + count` in the kernel's blocked layout (the last block may
    /// be partial; its unused lanes are zero), never changed once built.
    final class Segment: @unchecked Sendable {
        let start: Int
        let count: Int
        let codes: [UInt8]
        init(start: Int, count: Int, codes: [UInt8]) { self.start = start; self.count = count; self.codes = codes }
        var blocks: Int { (count + Int(SCAN_FS_BLOCK) - 1) / Int(SCAN_FS_BLOCK) }
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
    /// The dimension padded for the kernel (padding dimensions code 0 and score 0).
    public let paddedDim: Int
    /// Up to this many images calibrate the ranges (a larger collection keeps its calibration until reopened).
    public var calibrationRows = 65_536
    /// A segment smaller than this takes the next commit's images into a copy of itself instead of
    /// leaving a new segment: frequent small commits do not leave thousands of part-filled blocks.
    public var mergeBelow = 65_536
    /// Threads one query's scan is split over (a server answering one query per core sets 1).
    public var threads = Parallel.cores
    /// The kernel build (SCAN_FS_SCALAR, _AVX2, _AVX512BW); every one gives the same integers.
    public var kernel: Int32 = CompactPrefilter.defaultKernel

    /// The CPU's best build, or the one `SCAN_FAST_SCAN` names (scalar, avx2, avx512bw) when this CPU
    /// runs it: benchmarks compare the builds on one machine.
    public static let defaultKernel: Int32 = {
        let names: [String: Int32] = ["scalar": Int32(SCAN_FS_SCALAR), "avx2": Int32(SCAN_FS_AVX2), "avx512bw": Int32(SCAN_FS_AVX512BW)]
        if let name = ProcessInfo.processInfo.environment["SCAN_FAST_SCAN"], let isa = names[name.lowercased()], scan_fs_isa_supported(isa) == 1 { return isa }
        return scan_fs_best_isa()
    }()
    private var state = State()
    private let lock = NSLock()

    public init(dim: Int) {
        self.dim = dim
        paddedDim = scan_fs_padded_dim(dim)
    }

    public var bytesPerImage: Int { paddedDim / 2 }
    public var count: Int { lock.lock(); defer { lock.unlock() }; return state.count }
    public var residentBytes: Int { count * bytesPerImage }
    /// Segments held (tests: merging of small commits).
    var segmentCount: Int { lock.lock(); defer { lock.unlock() }; return state.segments.count }
    private var blockBytes: Int { scan_fs_block_bytes(paddedDim) }

    /// Encodes the images committed since the last call (`count ..< snapshot.count`). Callers serialise calls.
    @discardableResult
    public func extend(from snapshot: IndexSnapshot) throws -> [UInt64: String] {
        let current = { self.lock.lock(); defer { self.lock.unlock() }; return self.state }()
        let target = snapshot.count
        guard target > current.count else { return [:] }
        var next = current
        let keepRanges = current.calibration.map { !($0.rows < calibrationRows && target >= 2 * $0.rows) } ?? false
        if !keepRanges {
            next.calibration = try calibrate(snapshot, rows: target)
            next.segments = []
            next.count = 0
        }
        guard let calibration = next.calibration else { return [:] }
        var corrupt: [UInt64: String] = [:]
        let (builder, first) = startSegment(after: next.segments, count: next.count, adding: target - next.count)
        if builder.merged { next.segments.removeLast() }
        // Chunks of whole blocks of the new segment: the float rows of one chunk at a time (not the
        // whole collection's: a million rows would be 1 GB), encoded straight into the blocks.
        let chunk = 65_536
        var key = next.count
        while key < target {
            let slot = key - first
            let end = min(target, first + (slot / chunk + 1) * chunk)
            let values = try PrefilterVectorReader.read(snapshot, from: key, to: end, dim: dim, corrupt: &corrupt)
            builder.encode(values, rows: end - key, slot: slot, calibration: calibration)
            key = end
        }
        next.segments.append(builder.finish())
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
        guard let calibration = state.calibration, n > 0 else { return }
        let (builder, first) = startSegment(after: state.segments, count: state.count, adding: n)
        if builder.merged { state.segments.removeLast() }
        builder.encode(values, rows: n, slot: state.count - first, calibration: calibration)
        state.segments.append(builder.finish())
        state.count += n
    }

    /// A segment being built for images `first ..< count + adding`: a copy of the last segment when
    /// it is small (`merged`), else an empty one starting at `count`.
    final class SegmentBuilder {
        let start: Int
        let count: Int
        let merged: Bool
        var codes: [UInt8]
        let owner: CompactPrefilter
        init(owner: CompactPrefilter, start: Int, count: Int, merged: Bool, codes: [UInt8]) {
            self.owner = owner; self.start = start; self.count = count; self.merged = merged; self.codes = codes
        }

        /// Encodes `rows` float rows into slots `slot ..< slot + rows`, split over the cores by whole blocks.
        func encode(_ values: [Float], rows: Int, slot: Int, calibration c: Calibration) {
            guard rows > 0 else { return }
            let p = owner.dim, block = Int(SCAN_FS_BLOCK)
            let inv = c.step.map { 1 / $0 }
            // Blocks touched: the first may be shared with slots already written (another nibble of
            // the same bytes), so the split is by block and the first piece ends at a block boundary.
            let firstBlock = slot / block, lastBlock = (slot + rows - 1) / block
            codes.withUnsafeMutableBufferPointer { out in
                values.withUnsafeBufferPointer { vp in
                    c.lo.withUnsafeBufferPointer { lp in
                        inv.withUnsafeBufferPointer { ip in
                            guard let o = out.baseAddress, let v = vp.baseAddress, let l = lp.baseAddress, let iv = ip.baseAddress else { return }
                            Parallel.forChunks(lastBlock - firstBlock + 1, minChunk: 64) { range in
                                let s0 = max(slot, (firstBlock + range.lowerBound) * block)
                                let s1 = min(slot + rows, (firstBlock + range.upperBound) * block)
                                if s1 > s0 { scan_fs_encode(v + (s0 - slot) * p, s1 - s0, p, l, iv, o, s0) }
                            }
                        }
                    }
                }
            }
        }

        func finish() -> Segment { Segment(start: start, count: count, codes: codes) }
    }

    private func startSegment(after segments: [Segment], count: Int, adding n: Int) -> (SegmentBuilder, Int) {
        if let last = segments.last, last.count < mergeBelow {
            let total = last.count + n
            var codes = [UInt8](repeating: 0, count: (total + Int(SCAN_FS_BLOCK) - 1) / Int(SCAN_FS_BLOCK) * blockBytes)
            codes.withUnsafeMutableBufferPointer { d in
                last.codes.withUnsafeBufferPointer { s in
                    if let db = d.baseAddress, let sb = s.baseAddress { scan_fs_copy_slots(sb, last.count, paddedDim, db, 0) }
                }
            }
            return (SegmentBuilder(owner: self, start: last.start, count: total, merged: true, codes: codes), last.start)
        }
        let codes = [UInt8](repeating: 0, count: (n + Int(SCAN_FS_BLOCK) - 1) / Int(SCAN_FS_BLOCK) * blockBytes)
        return (SegmentBuilder(owner: self, start: count, count: n, merged: false, codes: codes), count)
    }

    /// Ranges from up to `calibrationRows` stored vectors spread evenly over keys `0 ..< rows`, read
    /// one by one (a corrupt vector is left out here; the encoding pass reports it).
    func calibrate(_ snapshot: IndexSnapshot, rows: Int) throws -> Calibration {
        let stride = max(1, (rows + calibrationRows - 1) / calibrationRows)
        if stride == 1 {
            var ignored: [UInt64: String] = [:]
            let values = try PrefilterVectorReader.read(snapshot, from: 0, to: rows, dim: dim, corrupt: &ignored)
            return Self.calibrate(values, rows: rows, dim: dim, limit: calibrationRows, sampled: nil)
        }
        let keys = Array(Swift.stride(from: 0, to: rows, by: stride))
        var sample = [Float](repeating: 0, count: keys.count * dim)
        var ok = [Bool](repeating: false, count: keys.count)
        let p = dim
        sample.withUnsafeMutableBufferPointer { sp in
            ok.withUnsafeMutableBufferPointer { okp in
                Parallel.forChunks(keys.count, minChunk: 1024) { range in
                    for i in range {
                        guard let v = try? snapshot.prefilter(UInt64(keys[i])), v.count == p else { continue }
                        for j in 0..<p { sp[i * p + j] = v[j] }
                        okp[i] = true
                    }
                }
            }
        }
        let kept = ok.indices.filter { ok[$0] }
        var packed = [Float](); packed.reserveCapacity(kept.count * p)
        for i in kept { packed.append(contentsOf: sample[(i * p)..<((i + 1) * p)]) }
        return Self.calibrate(packed, rows: kept.count, dim: p, limit: calibrationRows, sampled: rows)
    }

    /// Ranges of `rows` rows of `values` (every `rows / limit`-th row); `sampled` is the collection
    /// size the rows stand for (the calibration's `rows`), when they are a sample.
    static func calibrate(_ values: [Float], rows: Int, dim: Int, limit: Int, sampled: Int? = nil) -> Calibration {
        let stride = max(1, rows / max(1, limit))
        var lo = [Float](repeating: 0, count: dim), step = [Float](repeating: 1, count: dim)
        // Dimensions are independent: split over the cores (a million-image load sorts 256 columns of 65,536).
        lo.withUnsafeMutableBufferPointer { lp in
            step.withUnsafeMutableBufferPointer { sp in
                values.withUnsafeBufferPointer { vp in
                    Parallel.forChunks(dim, minChunk: 16) { range in
                        var column: [Float] = []
                        column.reserveCapacity((rows + stride - 1) / stride)
                        for j in range {
                            column.removeAll(keepingCapacity: true)
                            var r = 0
                            while r < rows { column.append(vp[r * dim + j]); r += stride }
                            guard !column.isEmpty else { sp[j] = 1e-6; continue }
                            column.sort()
                            let a = column[Int((Double(column.count - 1) * 0.001).rounded())], b = column[Int((Double(column.count - 1) * 0.999).rounded())]
                            lp[j] = a
                            sp[j] = b > a ? (b - a) / 15 : 1e-6
                        }
                    }
                }
            }
        }
        return Calibration(lo: lo, step: step, rows: sampled ?? rows)
    }

    /// The query's 8-bit table: entry [d][c] is q_d times the value code c stands for in dimension d.
    private func lookupTable(_ query: [Float], calibration c: Calibration) -> [UInt8] {
        var table = [Float](repeating: 0, count: paddedDim * 16)
        for d in 0..<dim {
            for code in 0..<16 { table[d * 16 + code] = query[d] * (c.lo[d] + c.step[d] * Float(code)) }
        }
        var lut = [UInt8](repeating: 0, count: paddedDim * 16)
        var bias: Float = 0
        _ = scan_fs_quantize_lut(table, paddedDim, &lut, &bias)
        return lut
    }

    private func snapshotState() -> State { lock.lock(); defer { lock.unlock() }; return state }

    /// Approximate scores (a monotone function of the code-space dot product, as the kernel's
    /// 16-bit integers) of images `0 ..< rows`.
    public func approximateScores(_ query: [Float], rows: Int) -> [Float] {
        let st = snapshotState()
        precondition(query.count == dim && rows <= st.count)
        var out = [Float](repeating: 0, count: rows)
        guard rows > 0, let c = st.calibration else { return out }
        let lut = lookupTable(query, calibration: c)
        var ints = [UInt16](repeating: 0, count: rows)
        ints.withUnsafeMutableBufferPointer { ip in
            guard let o = ip.baseAddress else { return }
            for seg in st.segments where seg.start < rows {
                scan_fs_scores(seg.codes, min(seg.count, rows - seg.start), paddedDim, lut, kernel, o + seg.start)
            }
        }
        for i in 0..<rows { out[i] = Float(ints[i]) }
        return out
    }

    /// Shortlist size for `k` candidates out of `rows`: max(factor x k, k + minimum), measured by
    /// `scan-bench first-stage` and `scan-bench index` (README) to keep at least 99% of the float32
    /// top K: x2 kept 98.89% of the top 1000 of a million model prefilter vectors, x2.5 more, and
    /// 500 more rows cost about 0.3 ms since the shortlist is read through the prefilter blocks.
    public var shortlistFactor = 2.5
    public var shortlistMinimum = 256
    public func shortlist(k: Int, rows: Int) -> Int { max(0, min(rows, max(Int((Double(k) * shortlistFactor).rounded(.up)), k + shortlistMinimum))) }

    /// The `k` best images of keys `0 ..< rows` by the codes alone (no rescoring), best first: the
    /// kernel's answer, for benchmarks against other code-only searches.
    public func approximateTopK(_ query: [Float], k: Int, rows: Int, excluding: Set<UInt64> = []) -> [UInt64] {
        let st = snapshotState()
        precondition(query.count == dim)
        return shortlistKeys(query, rows: min(rows, st.count), size: k, excluding: excluding, state: st)
    }

    /// The `size` best images of keys `0 ..< rows` by the kernel's score, never one of `excluding`,
    /// best first (equal scores: lower key first). Each thread keeps its own reservoir of packed
    /// (score, key) keys over its share of the blocks (CSCANFastScan.h); the kernel merges and sorts
    /// them, and no per-image array is made.
    func shortlistKeys(_ query: [Float], rows: Int, size: Int, excluding: Set<UInt64>, state st: State) -> [UInt64] {
        guard size > 0, rows > 0, let c = st.calibration else { return [] }
        // A packed key holds the image's key in its low 48 bits.
        precondition(UInt64(rows) <= UInt64(1) << SCAN_FS_ID_BITS, "the compact first stage packs keys in \(SCAN_FS_ID_BITS) bits; \(rows) images are too many")
        let size = min(size, rows)
        let lut = lookupTable(query, calibration: c)
        // Deleted keys as a bitmap the kernel checks only for images that would enter a reservoir.
        var bits = [UInt64]()
        if !excluding.isEmpty {
            bits = [UInt64](repeating: 0, count: (rows + 63) / 64)
            for k in excluding where k < UInt64(rows) { bits[Int(k / 64)] |= 1 << (k % 64) }
        }
        // Pieces of whole blocks over every segment, `threads` contiguous runs of them.
        let block = Int(SCAN_FS_BLOCK)
        let segs = st.segments.filter { $0.start < rows }
        var firstBlock = [Int](), total = 0
        for s in segs { firstBlock.append(total); total += (min(s.count, rows - s.start) + block - 1) / block }
        // A second thread from 2048 blocks (65,536 images) on. With the reservoir the selection is cheap,
        // so halving the scan pays even at 100,000 images: p50 of the codes-only top 356 / 2000 there
        // 0.34-0.51 / 0.45-0.56 ms split against 0.47-0.63 / 0.55-0.75 ms on one thread (scan-bench
        // first-stage, load about 1.3 on 2 cores). Below that, waking the thread and merging two
        // reservoirs costs about what it saves; on a machine whose other core is busy (load about 3)
        // the split was 5-10% slower at 100,000, which a server answering one query per core avoids
        // by setting `threads` to 1.
        let runs = max(1, min(threads, Parallel.available, total / 1024))
        let per = (total + runs - 1) / runs
        var keys = [UInt64](repeating: 0, count: runs * 2 * size)
        var reservoirs = [scan_fs_reservoir](repeating: scan_fs_reservoir(), count: runs)
        let pdim = paddedDim, isa = kernel
        let found = keys.withUnsafeMutableBufferPointer { kp in
            reservoirs.withUnsafeMutableBufferPointer { rp in
                bits.withUnsafeBufferPointer { bp in
                    lut.withUnsafeBufferPointer { lp in
                        guard let kb = kp.baseAddress, let rb = rp.baseAddress, let lb = lp.baseAddress else { return 0 }
                        let ex = bp.baseAddress, words = bp.count
                        let body = { (r: Int) in
                            scan_fs_reservoir_init(rb + r, kb + r * 2 * size, size)
                            let b0 = r * per, b1 = min(total, b0 + per)
                            for (i, s) in segs.enumerated() {
                                let n = min(s.count, rows - s.start)
                                let sb0 = firstBlock[i], sb1 = sb0 + (n + block - 1) / block
                                let lo = max(b0, sb0), hiB = min(b1, sb1)
                                guard lo < hiB else { continue }
                                let slot0 = (lo - sb0) * block, slot1 = min(n, (hiB - sb0) * block)
                                s.codes.withUnsafeBufferPointer { cp in
                                    guard let cb = cp.baseAddress else { return }
                                    scan_fs_scan(cb + (lo - sb0) * scan_fs_block_bytes(pdim), slot1 - slot0, pdim, lb, isa,
                                                 UInt64(s.start + slot0), ex, words, rb + r)
                                }
                            }
                        }
                        if runs == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: runs, execute: body) }
                        return scan_fs_reservoir_merge_sorted(rb, runs)
                    }
                }
            }
        }
        return keys[0..<found].map { scan_fs_key_id($0) }
    }

    /// The best `k` images of `snapshot` (keys `0 ..< snapshot.count`, loaded by `extend`) by the float
    /// prefilter score, found through the codes and the rescored shortlist; scores are the exact ones.
    /// Keys in `excluding` (deleted images) are never returned.
    public func candidates(_ query: [Float], k: Int, snapshot s: IndexSnapshot, excluding: Set<UInt64> = []) throws -> (keys: [UInt64], scores: [Float]) {
        let st = snapshotState()
        precondition(query.count == dim)
        let rows = min(s.count, st.count)
        let excluded = excluding.reduce(0) { $0 + ($1 < UInt64(rows) ? 1 : 0) }
        let short = shortlistKeys(query, rows: rows, size: shortlist(k: k, rows: rows - excluded), excluding: excluding, state: st)
        let exact = try rescore(short, query: query, snapshot: s)
        let best = TopK.select(exact, k: k)
        return (best.map { short[$0] }, best.map { exact[$0] })
    }

    /// The float prefilter scores of `keys`, read from the snapshot. The records are found through
    /// the snapshot's prefilter blocks (one small B-tree lookup per block, `PrefilterBlocks`), then
    /// decoded and scored in key order, split over `threads` (and the caller's limit) from 512 records on, with the
    /// records a few rows ahead prefetched (each one is a cache miss, and overlapping them is most of
    /// the speed here). Keys the blocks do not hold (an index written before them) are looked up one
    /// by one. Every record is checked (header, checksum, dimension) as `IndexSnapshot.prefilter`
    /// checks it; one that fails is read again through it, from the key's own record, so that a bad
    /// block row costs speed, not correctness, and a bad record's error names it.
    func rescore(_ keys: [UInt64], query: [Float], snapshot s: IndexSnapshot) throws -> [Float] {
        let n = keys.count, p = dim
        var exact = [Float](repeating: 0, count: n)
        guard n > 0 else { return exact }
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        let sorted = order.map { keys[$0] }
        var raw = try s.prefilterRecords(sortedKeys: sorted)
        if raw.contains(where: { $0 == nil }) {
            var key = [UInt8](repeating: 0, count: 8)
            for j in 0..<n where raw[j] == nil {
                IndexKey.encode(sorted[j], into: &key)
                raw[j] = try? s.rawValue(s.databases.prefilter, key: key)
            }
        }
        var failed = [Bool](repeating: false, count: n)
        let db = s.databases.prefilter.name
        let ahead = 6
        exact.withUnsafeMutableBufferPointer { ex in
            failed.withUnsafeMutableBufferPointer { fl in
                query.withUnsafeBufferPointer { qp in
                    guard let qb = qp.baseAddress else { return }
                    Parallel.withThreadLimit(min(threads, Parallel.available)) { Parallel.forChunks(n, minChunk: 512) { range in
                        var row = [Float](repeating: 0, count: p)
                        row.withUnsafeMutableBufferPointer { rb in
                            guard let r = rb.baseAddress else { return }
                            for j in range.lowerBound..<min(range.upperBound, range.lowerBound + ahead) {
                                if let v = raw[j], let b = v.baseAddress { scan_prefetch(b, v.count) }
                            }
                            for j in range {
                                if j + ahead < range.upperBound, let v = raw[j + ahead], let b = v.baseAddress { scan_prefetch(b, v.count) }
                                if let v = raw[j], let h = try? RecordCodec.decode(v, kind: .vector, database: db, into: rb), h.valueCount == p {
                                    ex[order[j]] = scan_dot(r, qb, p)
                                } else {
                                    fl[j] = true
                                }
                            }
                        }
                    } }
                }
            }
        }
        for j in 0..<n where failed[j] {
            let v = try s.prefilter(sorted[j])
            exact[order[j]] = v.withUnsafeBufferPointer { scan_dot($0.baseAddress!, query, p) }
        }
        return exact
    }
}
