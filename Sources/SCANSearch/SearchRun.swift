import Foundation
import SCANIndex

/// One answered query with what a service reports beside the hits: the stage times, the images
/// skipped because a record of theirs is corrupt, and the size of the snapshot searched.
public struct SearchRun: Sendable {
    public var hits: [SearchHit]
    public var skipped: [SkippedImage]
    /// Milliseconds of the first stage (prefilter scoring and selection; 0 in exact mode) and of the
    /// SCAN stage (decoding and cross attention; in prefilter mode only the metadata reads).
    public var firstStageMilliseconds: Double
    public var rerankMilliseconds: Double
    /// Images in the snapshot the query read.
    public var imageCount: Int
}

extension Searcher {
    /// Answers `q` like `search` / `prefilterSearch`, with the same hits for an intact index.
    /// With `skipCorrupt`, an image whose prefilter vector, regions or metadata fail their checks is
    /// left out and named in `skipped` (the rest are ranked as if it were not there); without it,
    /// the first corrupt record throws as in `search`.
    public func run(_ q: Query, top: Int = 10, candidates: Int = Searcher.defaultCandidates, mode: SearchMode = .twoStage,
                    skipCorrupt: Bool = false, snapshot given: IndexSnapshot? = nil) throws -> SearchRun {
        guard top >= 1 else { throw SearchError.invalidArgument("--top must be at least 1, got \(top)") }
        guard mode != .twoStage || candidates >= 1 else { throw SearchError.invalidArgument("--candidates must be at least 1, got \(candidates)") }
        let s = try given ?? snapshot()
        defer { if given == nil { s.close() } }
        do {
            var skipped: [SkippedImage] = []
            let t0 = DispatchTime.now().uptimeNanoseconds
            func ms(_ a: UInt64, _ b: UInt64) -> Double { Double(b &- a) / 1e6 }
            switch mode {
            case .exact:
                let scores = try resilientExactScores(q, snapshot: s, skipCorrupt: skipCorrupt, skipped: &skipped)
                let order = TopK.select(scores, k: skipped.isEmpty ? top : scores.count).filter { scores[$0] > -.infinity }
                let hits = try rankedHits(order.map { UInt64($0) }, scores: order.map { scores[$0] }, prefilter: nil, top: top,
                                          snapshot: s, skipCorrupt: skipCorrupt, skipped: &skipped)
                return SearchRun(hits: hits, skipped: skipped, firstStageMilliseconds: 0,
                                 rerankMilliseconds: ms(t0, DispatchTime.now().uptimeNanoseconds), imageCount: s.count)
            case .prefilter, .twoStage:
                try ensureResident(s)
                var pf = prefilterScores(q, rows: s.count)
                for bad in corruptPrefilterRows(below: s.count) {
                    guard skipCorrupt else { try requireIntactPrefilter(rows: s.count); break }
                    pf[Int(bad.key)] = -.infinity
                    skipped.append(SkippedImage(id: (try? s.metadata(bad.key))?.id, key: bad.key,
                                                reason: "\(s.databases.prefilter.name): \(bad.reason)"))
                }
                let excluded = skipped.count
                if mode == .prefilter {
                    let order = TopK.select(pf, k: min(s.count, top + excluded)).filter { pf[$0] > -.infinity }
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    let hits = try rankedHits(order.map { UInt64($0) }, scores: order.map { pf[$0] }, prefilter: order.map { pf[$0] },
                                              top: top, snapshot: s, skipCorrupt: skipCorrupt, skipped: &skipped)
                    return SearchRun(hits: hits, skipped: skipped, firstStageMilliseconds: ms(t0, t1),
                                     rerankMilliseconds: ms(t1, DispatchTime.now().uptimeNanoseconds), imageCount: s.count)
                }
                let cand = TopK.select(pf, k: max(candidates, top)).filter { pf[$0] > -.infinity }.map { UInt64($0) }
                let t1 = DispatchTime.now().uptimeNanoseconds
                let (kept, sc) = try resilientRerank(q, keys: cand, snapshot: s, skipCorrupt: skipCorrupt, skipped: &skipped)
                let order = TopK.select(sc, k: skipped.count > excluded ? sc.count : top)
                let hits = try rankedHits(order.map { kept[$0] }, scores: order.map { sc[$0] }, prefilter: order.map { pf[Int(kept[$0])] },
                                          top: top, snapshot: s, skipCorrupt: skipCorrupt, skipped: &skipped)
                return SearchRun(hits: hits, skipped: skipped, firstStageMilliseconds: ms(t0, t1),
                                 rerankMilliseconds: ms(t1, DispatchTime.now().uptimeNanoseconds), imageCount: s.count)
            }
        } catch { throw wrap(error, s) }
    }

    /// Whether `error` is a record failing its checks (as opposed to a missing index or an I/O error).
    static func corruptReason(_ error: Error) -> String? {
        if case let IndexError.corruptRecord(db, _, reason) = error { return "\(db): \(reason)" }
        if case let SearchError.corruptRecord(_, _, db, reason) = error { return "\(db): \(reason)" }
        return nil
    }

    /// The re-rank stage; on a corrupt region record, decodes the candidates one by one and scores those that read.
    private func resilientRerank(_ q: Query, keys: [UInt64], snapshot s: IndexSnapshot, skipCorrupt: Bool,
                                 skipped: inout [SkippedImage]) throws -> ([UInt64], [Float]) {
        do { return (keys, try rerank(q, keys: keys, snapshot: s)) } catch {
            guard skipCorrupt, Self.corruptReason(error) != nil else { throw error }
        }
        var good: [UInt64] = []
        for k in keys {
            do { _ = try s.regionBatch([k]); good.append(k) } catch {
                guard let reason = Self.corruptReason(error) else { throw error }
                skipped.append(SkippedImage(id: (try? s.metadata(k))?.id, key: k, reason: reason))
            }
        }
        return (good, try rerank(q, keys: good, snapshot: s))
    }

    /// SCAN scores of every image; with `skipCorrupt`, a block that fails is scored image by image and
    /// a corrupt image scores -infinity.
    private func resilientExactScores(_ q: Query, snapshot s: IndexSnapshot, skipCorrupt: Bool,
                                      skipped: inout [SkippedImage]) throws -> [Float] {
        if !skipCorrupt { return try exactScores(q, snapshot: s) }
        let n = s.count
        var out = [Float](repeating: 0, count: n)
        let avgRegions = max(1, s.manifest.regionCount / max(1, s.manifest.imageCount))
        let perBlock = max(1, exactBlockRows / avgRegions)
        var lo = 0
        while lo < n {
            let hi = min(n, lo + perBlock)
            do {
                let sc = try exactScores([q], snapshot: s, range: lo..<hi)[0]
                for i in lo..<hi { out[i] = sc[i - lo] }
            } catch {
                guard Self.corruptReason(error) != nil else { throw error }
                for i in lo..<hi {
                    do { out[i] = try rerank(q, keys: [UInt64(i)], snapshot: s)[0] } catch {
                        guard let reason = Self.corruptReason(error) else { throw error }
                        out[i] = -.infinity
                        skipped.append(SkippedImage(id: (try? s.metadata(UInt64(i)))?.id, key: UInt64(i), reason: reason))
                    }
                }
            }
            lo = hi
        }
        return out
    }

    /// The first `top` of the ranked keys whose metadata reads (with `skipCorrupt`), ranked 1...
    private func rankedHits(_ keys: [UInt64], scores: [Float], prefilter: [Float]?, top: Int, snapshot s: IndexSnapshot,
                            skipCorrupt: Bool, skipped: inout [SkippedImage]) throws -> [SearchHit] {
        if !skipCorrupt {
            let n = min(top, keys.count)
            return try hits(Array(keys.prefix(n)), scores: Array(scores.prefix(n)), prefilter: prefilter.map { Array($0.prefix(n)) }, snapshot: s)
        }
        var out: [SearchHit] = []
        for (i, k) in keys.enumerated() where out.count < top {
            do {
                let md = try s.metadata(k)
                out.append(SearchHit(rank: out.count + 1, id: md.id, score: scores[i], captions: md.captions, key: k, prefilterScore: prefilter?[i]))
            } catch {
                guard let reason = Self.corruptReason(error) else { throw error }
                skipped.append(SkippedImage(id: nil, key: k, reason: reason))
            }
        }
        return out
    }
}
