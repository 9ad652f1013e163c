import Foundation
import SCANCore
import SCANSearch
import SCANSynthetic

/// How much the two-stage search keeps of exact search's text-to-image recall, as a function of
/// the number K of prefilter candidates re-ranked by SCAN, on a collection with known matches
/// (each query caption belongs to one image of the index).
///
/// Computed from one prefilter pass and one exact SCAN pass per query (the same functions the
/// searcher uses): with K candidates the two-stage rank of the query's image is its rank by SCAN
/// score among the prefilter's top K, or a miss when the prefilter ranks it K-th or lower.
/// Ties are broken as the searcher breaks them (lower internal key first).
public enum RetentionStudy {
    public struct Recall: Sendable, Equatable {
        public var r1: Double
        public var r5: Double
        public var r10: Double
        public init(r1: Double, r5: Double, r10: Double) { self.r1 = r1; self.r5 = r5; self.r10 = r10 }

        /// From 0-based ranks (nil: not found).
        init(ranks: [Int?]) {
            func at(_ k: Int) -> Double {
                ranks.isEmpty ? 0 : 100 * Double(ranks.filter { $0 != nil && $0! < k }.count) / Double(ranks.count)
            }
            self.init(r1: at(1), r5: at(5), r10: at(10))
        }

        public var values: [Double] { [r1, r5, r10] }
    }

    public struct Row: Sendable {
        public var k: Int
        public var recall: Recall
    }

    public struct Report: Sendable {
        public var index: String
        public var images: Int
        public var queries: Int
        public var prefilterKind: String
        public var prefilterDim: Int
        /// Every image scored by SCAN.
        public var exact: Recall
        /// The prefilter's own ranking.
        public var prefilterOnly: Recall
        /// Two-stage search with K candidates.
        public var rows: [Row]
        /// Percentage of queries whose image the prefilter ranks below K, for each row's K.
        public var candidateRecall: [Double]

        public func row(k: Int) -> Row? { rows.first { $0.k == k } }

        /// A printed table.
        public var table: String {
            var lines = [String(format: "retention: %@ prefilter (dim %d), %d images, %d queries (t2i recall, %%)", prefilterKind, prefilterDim, images, queries)]
            lines.append("       K |   R@1   R@5  R@10 | image among the K candidates")
            for (i, r) in rows.enumerated() {
                lines.append(String(format: "%8d | %5.1f %5.1f %5.1f | %5.1f", r.k, r.recall.r1, r.recall.r5, r.recall.r10, candidateRecall[i]))
            }
            lines.append(String(format: "   exact | %5.1f %5.1f %5.1f |", exact.r1, exact.r5, exact.r10))
            lines.append(String(format: "prefilter| %5.1f %5.1f %5.1f | (prefilter ranking alone)", prefilterOnly.r1, prefilterOnly.r5, prefilterOnly.r10))
            return lines.joined(separator: "\n")
        }
    }

    /// Opens the index and runs the study.
    public static func run(index: String, queries: [(caption: String, imageID: String)], ks: [Int],
                           progress: ((Int, Int) -> Void)? = nil) throws -> Report {
        try run(searcher: try Searcher(index: index), queries: queries, ks: ks, progress: progress)
    }

    public static func run(searcher: Searcher, queries: [(caption: String, imageID: String)], ks: [Int],
                           progress: ((Int, Int) -> Void)? = nil) throws -> Report {
        guard !queries.isEmpty else { throw SearchError.invalidArgument("the retention study needs at least one query") }
        guard let maxK = ks.max(), ks.allSatisfy({ $0 >= 1 }) else { throw SearchError.invalidArgument("K values must be at least 1") }
        let s = try searcher.snapshot()
        defer { s.close() }
        var targets: [Int] = []
        var missing: [String] = []
        for q in queries {
            if let k = try s.key(forID: q.imageID) { targets.append(Int(k)) } else { missing.append(q.imageID) }
        }
        guard missing.isEmpty else { throw SearchError.unknownImages(ids: missing) }
        let encoded = try searcher.encode(queries.map(\.caption))
        let n = s.count
        // One exact pass over the records for all queries (in groups, to bound memory).
        var exactRanks: [Int?] = [], prefilterRanks: [Int?] = []
        var twoStage = [[Int?]](repeating: [], count: ks.count)
        var inCandidates = [Int](repeating: 0, count: ks.count)
        let group = max(1, min(queries.count, (64 << 20) / max(1, 4 * n)))
        var done = 0
        for lo in stride(from: 0, to: queries.count, by: group) {
            let hi = min(queries.count, lo + group)
            let exact = try searcher.exactScores(Array(encoded[lo..<hi]), snapshot: s)
            for j in lo..<hi {
                let ex = exact[j - lo]
                let t = targets[j]
                let pf = searcher.prefilterScores(encoded[j], rows: n)
                exactRanks.append(rank(of: t, in: ex))
                let pr = rank(of: t, in: pf)
                prefilterRanks.append(pr)
                let order = TopK.select(pf, k: maxK)
                for (ki, k) in ks.enumerated() {
                    guard pr < k else { twoStage[ki].append(nil); continue }
                    inCandidates[ki] += 1
                    var r = 0
                    for c in order.prefix(k) where c != t && (ex[c] > ex[t] || (ex[c] == ex[t] && c < t)) { r += 1 }
                    twoStage[ki].append(r)
                }
            }
            done = hi
            progress?(done, queries.count)
        }
        let m = s.manifest
        return Report(index: searcher.indexPath, images: n, queries: queries.count, prefilterKind: m.prefilterKind.rawValue,
                      prefilterDim: m.prefilterDim, exact: Recall(ranks: exactRanks), prefilterOnly: Recall(ranks: prefilterRanks),
                      rows: ks.enumerated().map { Row(k: $1, recall: Recall(ranks: twoStage[$0])) },
                      candidateRecall: inCandidates.map { 100 * Double($0) / Double(queries.count) })
    }

    /// 0-based rank of position `t` when sorting by score descending, ties by position.
    static func rank(of t: Int, in scores: [Float]) -> Int {
        let st = scores[t]
        var r = 0
        for (i, x) in scores.enumerated() where x > st || (x == st && i < t) { r += 1 }
        return r
    }
}
