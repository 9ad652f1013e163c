import CSCANKernels
import Foundation
import SCANCore
import SCANIndex
import SCANModel

/// One result of a search.
public struct SearchHit: Sendable, Equatable {
    /// 1-based.
    public var rank: Int
    /// The image's external id.
    public var id: String
    /// SCAN's similarity (the model's cross attention); the prefilter's cosine in prefilter-only search.
    public var score: Float
    /// The captions stored with the image (empty when the source had none).
    public var captions: [String]
    /// Internal key of the image in the index.
    public var key: UInt64
    /// The image's prefilter score (nil in exact search).
    public var prefilterScore: Float?

    public init(rank: Int, id: String, score: Float, captions: [String], key: UInt64, prefilterScore: Float? = nil) {
        self.rank = rank; self.id = id; self.score = score; self.captions = captions; self.key = key; self.prefilterScore = prefilterScore
    }
}

/// Cross-modal search over an index: text query -> images.
///
/// Loads everything once from the index directory (its model copy, checked against the manifest,
/// and the resident prefilter matrix). Every search reads one LMDB snapshot, so it sees one commit
/// even while `scan-index add` appends; images committed since the last search are added to the
/// resident prefilter first. Two stages: the prefilter scores every image by the dot product of
/// the l2-normalised (projected) mean-pooled vectors, then the best `candidates` are decoded and
/// scored by SCAN's cross attention (`SimilarityScorer`, the evaluation's exact scorer). `exact`
/// scores every image with SCAN instead, streaming the records in blocks.
public final class Searcher: @unchecked Sendable {
    /// Default number of candidates re-ranked by SCAN (see the README of the search: retention at
    /// K = 100 is within 0.5 R@K points of exact search on the measured collections, and decoding
    /// and scoring 100 images costs a few milliseconds even at paper size).
    public static let defaultCandidates = 100
    /// Region rows decoded per block in exact search (64 MB of float32 at embed 1024).
    public var exactBlockRows = 16_384

    public let indexPath: String
    public let reader: IndexReader
    public let model: IndexModel
    public let scorer: SimilarityScorer
    /// The manifest as of opening.
    public let manifest: IndexManifest
    public let resident: ResidentPrefilter
    /// Which first stage serves two-stage and prefilter searches.
    public enum FirstStage: String, Sendable, CaseIterable {
        /// `CompactPrefilter`: 4-bit codes (P / 2 bytes per image) and a rescored shortlist.
        case compact
        /// `ResidentPrefilter`: every vector in float32 (float16 above P = 256), scanned in full.
        case float32
    }
    public let firstStage: FirstStage
    /// The compact first stage (loaded when `firstStage` is `.compact`).
    public let compact: CompactPrefilter
    private let tokenizer = Tokenizer()
    /// Guards `resident`: extending it to a newer commit is exclusive, scoring is shared, so
    /// concurrent queries never take turns over the first-stage scan.
    private let lock = ReadWriteLock()
    /// Rows of `resident` loaded as zeros because their stored vector is corrupt (under `lock`).
    private var corruptPrefilter: [UInt64: String] = [:]

    /// Opens the index at `index`: checks its model copy against the manifest and loads the prefilter
    /// vectors. An index still being built (or interrupted) is searched as of its last commit.
    public init(index: String, residentStorage: ResidentPrefilter.Storage? = nil, firstStage: FirstStage = .compact) throws {
        let path = (index as NSString).standardizingPath
        try IndexLocation.requireIndex(path)
        indexPath = path
        do { reader = try IndexReader(path: path, allowIncomplete: true) } catch let e as IndexError {
            if case let .missingIndex(_, reason) = e { throw SearchError.noIndex(path: path, reason: reason) }
            throw e
        }
        manifest = reader.manifest
        model = try IndexModel.loadCopy(ofIndex: path, manifest: manifest)
        scorer = SimilarityScorer(attention: model.model.attention)
        resident = ResidentPrefilter(dim: manifest.prefilterDim, storage: residentStorage)
        compact = CompactPrefilter(dim: manifest.prefilterDim)
        self.firstStage = firstStage
        let s = try snapshot()
        s.close()
    }

    /// Process-wide settings for a process that serves searches (scan-search, benchmarks):
    /// - the C allocator keeps freed memory for reuse instead of returning it to the system (glibc: no
    ///   mmap for blocks under 1 GB, no trimming under 1 GB): a query allocates tens of MB of decoded
    ///   regions (K = 1000: ~150 MB at paper size), and fresh pages cost page faults and zeroing;
    /// - OpenBLAS runs single-threaded: after a multithreaded call its idle worker spins (sched_yield)
    ///   for a long while and takes a core from the decoding and scoring threads; the search splits its
    ///   own work over the cores instead (query encoding runs the two GRU directions side by side).
    public static func tuneProcessForSearch() {
        _ = scan_allocator_keep_freed_memory()
        BLAS.setThreadCount(1)
    }

    /// A snapshot of the newest commit, with the first stage extended to it.
    public func snapshot() throws -> IndexSnapshot {
        let s = try reader.snapshot()
        do { try ensureResident(s) } catch { throw wrap(error, s) }
        return s
    }

    /// Extends the first stage to `s` (a snapshot not taken through `snapshot()`). A corrupt prefilter
    /// vector does not stop the extension: its row is loaded as zeros (no codes, in the compact first
    /// stage) and remembered, and every search over it reports it (`corruptPrefilterRows`). Extending
    /// is exclusive; scoring is shared, so concurrent queries never take turns over the first stage.
    func ensureResident(_ s: IndexSnapshot) throws {
        switch firstStage {
        case .compact:
            if lock.read({ compact.count >= s.count }) { return }
            try lock.write {
                guard compact.count < s.count else { return }
                for (key, reason) in try compact.extend(from: s) { corruptPrefilter[key] = reason }
            }
        case .float32:
            if lock.read({ resident.count >= s.count }) { return }
            try lock.write {
                guard resident.count < s.count else { return }
                try extendResident(s)
            }
        }
    }

    /// The float32 vectors up to `s` (under the write lock).
    private func extendResident(_ s: IndexSnapshot) throws {
        var corrupt: [UInt64: String] = [:]
        try resident.extend(from: s, corrupt: &corrupt)
        for (key, reason) in corrupt { corruptPrefilter[key] = reason }
    }

    /// Keys (below `rows`) whose prefilter vector is corrupt, with the reason.
    func corruptPrefilterRows(below rows: Int) -> [(key: UInt64, reason: String)] {
        lock.read { corruptPrefilter.filter { $0.key < UInt64(rows) }.map { ($0.key, $0.value) }.sorted { $0.key < $1.key } }
    }

    /// Throws the first corrupt prefilter vector below `rows` (the searches that do not skip corrupt images).
    func requireIntactPrefilter(rows: Int) throws {
        if let first = corruptPrefilterRows(below: rows).first {
            throw IndexError.corruptRecord(database: reader.databases.prefilter.name, key: String(first.key), reason: first.reason)
        }
    }

    /// Images the first stage holds.
    public var firstStageCount: Int { firstStage == .compact ? compact.count : resident.count }

    /// Resident bytes per image of the first stage.
    public var firstStageBytesPerImage: Int { firstStage == .compact ? compact.bytesPerImage : resident.bytesPerImage }

    /// The first stage's best `k` images of `s` with their prefilter scores, never one of `excluding`
    /// (deleted images are always excluded).
    public func firstStageCandidates(_ q: Query, k: Int, snapshot s: IndexSnapshot, excluding: Set<UInt64> = []) throws -> (keys: [UInt64], scores: [Float]) {
        try ensureResident(s)
        let skip = try s.deletedKeys().union(excluding)
        switch firstStage {
        case .compact:
            return try compact.candidates(q.prefilterVector, k: k, snapshot: s, excluding: skip)
        case .float32:
            var pf = prefilterScores(q, rows: s.count)
            for d in skip where d < UInt64(pf.count) { pf[Int(d)] = -.infinity }
            let best = TopK.select(pf, k: k).filter { !skip.contains(UInt64($0)) }
            return (best.map { UInt64($0) }, best.map { pf[$0] })
        }
    }

    /// An encoded text query.
    public struct Query: Sendable {
        public var text: String
        /// `[<start>] + word ids + [<end>]`.
        public var tokenIDs: [Int]
        /// Words not in the vocabulary (encoded as `<unk>`), each once.
        public var unknownWords: [String]
        /// The caption's word embeddings (one item).
        public var caption: EmbeddingSet
        /// The prefilter vector (l2-normalised).
        public var prefilterVector: [Float]
        public init(text: String, tokenIDs: [Int], unknownWords: [String], caption: EmbeddingSet, prefilterVector: [Float]) {
            self.text = text
            self.tokenIDs = tokenIDs
            self.unknownWords = unknownWords
            self.caption = caption
            self.prefilterVector = prefilterVector
        }

        /// True when no word of the query is in the vocabulary.
        public var allUnknown: Bool { tokenIDs.count > 2 && tokenIDs.dropFirst().dropLast().allSatisfy { $0 == Vocabulary.unk } }

        /// The warning to print for unknown words, nil when every word is known.
        public var warning: String? {
            guard !unknownWords.isEmpty else { return nil }
            let list = unknownWords.map { "'\($0)'" }.joined(separator: ", ")
            if allUnknown { return "warning: no word of the query \"\(text)\" is in the model's vocabulary (\(list)): the results are not meaningful" }
            return "warning: not in the model's vocabulary, searched as <unk>: \(list)"
        }
    }

    /// Tokenises and encodes a query with the index's model. Throws `SearchError.emptyQuery` for a query without words.
    public func encode(_ text: String) throws -> Query {
        let tokens = tokenizer.tokenize(text)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, !tokens.isEmpty else { throw SearchError.emptyQuery }
        let ids = model.vocabulary.encode(tokens: tokens)
        let unknown = model.vocabulary.unknownWords(in: text, tokenizer: tokenizer)
        let caption = try QueryEncoder.encode(model.model.textEncoder, ids: ids)
        let v = model.prefilter.vectors(caption, side: .text)
        return Query(text: text, tokenIDs: ids, unknownWords: unknown, caption: caption, prefilterVector: v.data)
    }

    /// Encodes many queries at once (one batched text encoding).
    public func encode(_ texts: [String]) throws -> [Query] {
        var ids: [[Int]] = []
        for t in texts {
            let tokens = tokenizer.tokenize(t)
            guard !tokens.isEmpty else { throw SearchError.emptyQuery }
            ids.append(model.vocabulary.encode(tokens: tokens))
        }
        var out: [Query] = []
        let chunk = 256
        for lo in stride(from: 0, to: texts.count, by: chunk) {
            let hi = min(texts.count, lo + chunk)
            let set = try model.model.encodeCaptions(Array(ids[lo..<hi]))
            let v = model.prefilter.vectors(set, side: .text)
            let p = v.shape[1]
            for j in lo..<hi {
                let k = j - lo
                out.append(Query(text: texts[j], tokenIDs: ids[j], unknownWords: model.vocabulary.unknownWords(in: texts[j], tokenizer: tokenizer),
                                 caption: set.subset(k..<(k + 1)), prefilterVector: Array(v.data[(k * p)..<((k + 1) * p)])))
            }
        }
        return out
    }

    /// Searches with a text query (see `search(_:top:candidates:exact:)`).
    public func search(query: String, top: Int = 10, candidates: Int = Searcher.defaultCandidates, exact: Bool = false) throws -> [SearchHit] {
        try search(try encode(query), top: top, candidates: candidates, exact: exact)
    }

    /// The best `top` images for `q`: the prefilter's best `candidates` re-ranked by SCAN, or with
    /// `exact` every image scored by SCAN. Scores are SCAN similarities either way.
    /// With `snapshot` (from `snapshot()`), the search reads that commit; otherwise the newest one.
    public func search(_ q: Query, top: Int = 10, candidates: Int = Searcher.defaultCandidates, exact: Bool = false,
                       snapshot given: IndexSnapshot? = nil) throws -> [SearchHit] {
        guard top >= 1 else { throw SearchError.invalidArgument("--top must be at least 1, got \(top)") }
        guard exact || candidates >= 1 else { throw SearchError.invalidArgument("--candidates must be at least 1, got \(candidates)") }
        let s = try given ?? snapshot()
        defer { if given == nil { s.close() } }
        do {
            if exact {
                let scores = try exactScores(q, snapshot: s)
                let deleted = try s.deletedKeys()
                let best = TopK.select(scores, k: top).filter { !deleted.contains(UInt64($0)) }
                return try hits(best.map { UInt64($0) }, scores: best.map { scores[$0] }, prefilter: nil, snapshot: s)
            }
            try ensureResident(s)
            try requireIntactPrefilter(rows: s.count)
            let (cand, pf) = try firstStageCandidates(q, k: max(candidates, top), snapshot: s)
            let sc = try rerank(q, keys: cand, snapshot: s)
            let order = TopK.select(sc, k: top)
            return try hits(order.map { cand[$0] }, scores: order.map { sc[$0] }, prefilter: order.map { pf[$0] }, snapshot: s)
        } catch { throw wrap(error, s) }
    }

    /// The prefilter stage alone: the best `top` images by prefilter score (no region record is read).
    public func prefilterSearch(_ q: Query, top: Int = 10, snapshot given: IndexSnapshot? = nil) throws -> [SearchHit] {
        let s = try given ?? snapshot()
        defer { if given == nil { s.close() } }
        do {
            try ensureResident(s)
            try requireIntactPrefilter(rows: s.count)
            let (best, pf) = try firstStageCandidates(q, k: top, snapshot: s)
            return try hits(best, scores: pf, prefilter: pf, snapshot: s)
        } catch { throw wrap(error, s) }
    }

    /// Float prefilter scores of images `0 ..< rows` (rows <= the snapshots seen); with the compact
    /// first stage the float32 vectors are loaded on first use (studies and benchmarks only).
    public func prefilterScores(_ q: Query, rows: Int) -> [Float] {
        if lock.read({ resident.count < rows }), let s = try? reader.snapshot() {
            try? lock.write { if resident.count < rows { try extendResident(s) } }
            s.close()
        }
        return lock.read { resident.scores(q.prefilterVector, rows: min(rows, resident.count)) }
    }

    /// SCAN scores of the images `keys` (decoded from `snapshot`, scored as one set).
    public func rerank(_ q: Query, keys: [UInt64], snapshot s: IndexSnapshot) throws -> [Float] {
        if keys.isEmpty { return [] }
        let batch = try s.regionBatch(keys)
        let images = EmbeddingSet(dim: batch.dim, offsets: batch.rowOffsets, data: batch.values)
        return scorer.scores(images: images, captions: q.caption)
    }

    /// SCAN scores of every image of the snapshot in key order, decoding blocks of about
    /// `exactBlockRows` regions at a time (memory stays bounded whatever the index size).
    public func exactScores(_ q: Query, snapshot s: IndexSnapshot) throws -> [Float] {
        try exactScores([q], snapshot: s).first ?? []
    }

    /// SCAN scores of every image (or of the images with keys in `range`) for several queries:
    /// `result[query][image - range.lowerBound]`, streaming the records once. Deleted images score -infinity.
    public func exactScores(_ queries: [Query], snapshot s: IndexSnapshot, range: Range<Int>? = nil,
                            progress: ((Int, Int) -> Void)? = nil) throws -> [[Float]] {
        let r = range ?? 0..<s.count
        guard r.lowerBound >= 0 && r.upperBound <= s.count else {
            throw SearchError.invalidArgument("key range \(r) outside the snapshot's 0..<\(s.count)")
        }
        let n = r.count
        var out = [[Float]](repeating: [Float](repeating: 0, count: n), count: queries.count)
        if n == 0 || queries.isEmpty { return out }
        var captions = EmbeddingSet(dim: model.config.embedSize)
        for q in queries { captions.append(contentsOf: q.caption) }
        let avgRegions = max(1, s.manifest.regionCount / max(1, s.manifest.imageCount))
        let perBlock = max(1, exactBlockRows / avgRegions)
        let deleted = try s.deletedKeys()
        var lo = 0
        while lo < n {
            let hi = min(n, lo + perBlock)
            let slots = (lo..<hi).filter { !deleted.contains(UInt64(r.lowerBound + $0)) }
            let nq = queries.count
            for i in lo..<hi where deleted.contains(UInt64(r.lowerBound + i)) { for j in 0..<nq { out[j][i] = -.infinity } }
            let batch = try s.regionBatch(slots.map { UInt64(r.lowerBound + $0) })
            let images = EmbeddingSet(dim: batch.dim, offsets: batch.rowOffsets, data: batch.values)
            let sc = slots.isEmpty ? [] : scorer.scores(images: images, captions: captions)
            for (i, slot) in slots.enumerated() { for j in 0..<nq { out[j][slot] = sc[i * nq + j] } }
            lo = hi
            progress?(lo, n)
        }
        return out
    }

    func hits(_ keys: [UInt64], scores: [Float], prefilter: [Float]?, snapshot s: IndexSnapshot) throws -> [SearchHit] {
        try keys.enumerated().map { i, k in
            let md = try s.metadata(k)
            return SearchHit(rank: i + 1, id: md.id, score: scores[i], captions: md.captions, key: k, prefilterScore: prefilter?[i])
        }
    }

    /// A corrupt record becomes an error naming the image (its external id when its metadata reads).
    func wrap(_ error: Error, _ s: IndexSnapshot) -> Error {
        guard case let IndexError.corruptRecord(db, key, reason) = error, let k = UInt64(key) else { return error }
        let id = db == s.databases.metadata.name ? nil : (try? s.metadata(k))?.id
        return SearchError.corruptRecord(id: id, key: k, database: db, reason: reason)
    }
}
