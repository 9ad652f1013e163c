import Foundation
import SCANCore
import SCANIndex
import SCANSearch

/// What each region storage setting costs and keeps: for a model and a precomp split (features and
/// captions, each caption belonging to one image), one index per setting, then for every caption
/// as a query the two-stage search (K candidates) on that index against exact search on the
/// float16 index: t2i R@1/5/10 of both, and the overlap of their top 10. Bytes per image are the
/// stored region values (header, codes or values, after zstd) measured on the split, and the same
/// extrapolated to the paper's 36 regions x 1024 dims.
public enum CodecStudy {
    public struct Row: Sendable {
        public var precision: Precision
        /// Region record bytes per image, measured.
        public var bytesPerImage: Double
        /// The same setting's record size at 36 x 1024 (zstd's gain on float values measured here is applied as a ratio).
        public var paperBytesPerImage: Double
        public var twoStage: RetentionStudy.Recall
        /// Mean |top 10 of two-stage on this setting ∩ top 10 of float16 exact| / 10, percent.
        public var overlapTop10: Double
        public var buildSeconds: Double
    }

    public struct Report: Sendable {
        public var images: Int
        public var queries: Int
        public var regionsPerImage: Double
        public var embedDim: Int
        public var candidates: Int
        /// Exact search on float16 regions: the yardstick.
        public var exactFloat16: RetentionStudy.Recall
        public var rows: [Row]

        public var table: String {
            var lines = [String(format: "codec study: %d images (%.1f regions x %d dims), %d queries; two-stage K = %d vs --exact on float16",
                                images, regionsPerImage, embedDim, queries, candidates)]
            lines.append("setting |  bytes/img | at 36x1024 |  R@1   R@5  R@10 | dR@1  dR@10 | top-10 overlap | build s")
            lines.append(String(format: "exact f16|            |            | %5.1f %5.1f %5.1f |            |                |",
                                exactFloat16.r1, exactFloat16.r5, exactFloat16.r10))
            for r in rows {
                lines.append(String(format: "%7@ | %10.0f | %10.0f | %5.1f %5.1f %5.1f | %+5.1f %+5.1f | %13.1f%% | %7.1f",
                                    r.precision.rawValue, r.bytesPerImage, r.paperBytesPerImage, r.twoStage.r1, r.twoStage.r5, r.twoStage.r10,
                                    r.twoStage.r1 - exactFloat16.r1, r.twoStage.r10 - exactFloat16.r10, r.overlapTop10, r.buildSeconds))
            }
            return lines.joined(separator: "\n")
        }

        /// The smallest setting within `points` of float16 exact at R@1 and R@10 and at most `maxPaperBytes` at paper size.
        public func smallestHolding(points: Double = 0.5, maxPaperBytes: Double = 6144) -> Row? {
            rows.filter { $0.paperBytesPerImage <= maxPaperBytes && $0.twoStage.r1 >= exactFloat16.r1 - points && $0.twoStage.r10 >= exactFloat16.r10 - points }
                .min { $0.paperBytesPerImage < $1.paperBytesPerImage }
        }
    }

    /// Builds `directory/<precision>` for every setting (float16 first: the yardstick) and measures.
    /// `queryStride`: every n-th caption is a query (exact search over a large collection is costly).
    public static func run(model: String, features: String, captions: String, precisions: [Precision], candidates: Int = Searcher.defaultCandidates,
                           queryStride: Int = 1, reuse: Bool = false, directory: String, log: (String) -> Void = { _ in }) throws -> Report {
        let settings = [Precision.float16] + precisions.filter { $0 != .float16 }
        var indexes: [Precision: String] = [:]
        var seconds: [Precision: Double] = [:]
        for p in settings {
            let path = directory + "/" + p.rawValue
            // `reuse`: a complete index of this setting from an earlier run is measured as it is.
            if reuse, let m = try? IndexReader(path: path).manifest, m.precision == p {
                indexes[p] = path
                seconds[p] = .nan
                log("reusing \(path) (\(m.imageCount) images)")
                continue
            }
            try? FileManager.default.removeItem(atPath: path)
            var o = BuildOptions()
            o.precision = p
            o.showProgress = false
            let t = ProgressReporter.now()
            let src = try PrecompFeatureSource(imagesPath: features, captionsPath: captions)
            _ = try IndexBuilder.build(index: path, modelDirectory: model, source: src, options: o)
            seconds[p] = ProgressReporter.now() - t
            indexes[p] = path
            log("built \(p.rawValue) in \(String(format: "%.1f", seconds[p]!)) s")
        }
        let base = try Searcher(index: indexes[.float16]!)
        let texts = try String(contentsOfFile: captions, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let s0 = try base.snapshot()
        defer { s0.close() }
        let n = s0.count
        guard n > 0, texts.count % n == 0 else {
            throw SearchError.invalidArgument("\(captions): \(texts.count) captions for \(n) images (need a multiple)")
        }
        let perImage = texts.count / n
        let picked = Array(stride(from: 0, to: texts.count, by: max(1, queryStride)))
        let targets = picked.map { UInt64($0 / perImage) }
        let queries = try base.encode(picked.map { texts[$0] })
        log("\(queries.count) queries; exact search on float16 over \(n) images")
        // Exact float16 scores, in groups of queries (bounded memory).
        var exactTop: [[UInt64]] = []
        var exactRanks: [Int?] = []
        let group = max(1, min(queries.count, (64 << 20) / max(1, 4 * n)))
        for lo in stride(from: 0, to: queries.count, by: group) {
            let hi = min(queries.count, lo + group)
            let sc = try base.exactScores(Array(queries[lo..<hi]), snapshot: s0)
            for j in lo..<hi {
                let ex = sc[j - lo]
                exactTop.append(TopK.select(ex, k: 10).map { UInt64($0) })
                exactRanks.append(RetentionStudy.rank(of: Int(targets[j]), in: ex))
            }
        }
        var rows: [Row] = []
        let f16Bytes = try regionBytesPerImage(indexes[.float16]!)
        let m = base.manifest
        let rpi = Double(m.regionCount) / Double(max(1, m.imageCount))
        for p in settings {
            let searcher = p == .float16 ? base : try Searcher(index: indexes[p]!)
            log("two-stage on \(p.rawValue)")
            var ranks: [Int?] = []
            var overlap = 0
            for (j, q) in queries.enumerated() {
                let hits = try searcher.search(q, top: max(10, candidates >= 10 ? 10 : candidates), candidates: candidates)
                let keys = hits.map(\.key)
                ranks.append(keys.firstIndex(of: targets[j]))
                overlap += Set(keys.prefix(10)).intersection(exactTop[j]).count
            }
            let bytes = try regionBytesPerImage(indexes[p]!)
            rows.append(Row(precision: p, bytesPerImage: bytes, paperBytesPerImage: paperBytes(p, measured: bytes, float16Measured: f16Bytes, rows: rpi, dim: m.embedDim),
                            twoStage: RetentionStudy.Recall(ranks: ranks), overlapTop10: 100 * Double(overlap) / Double(10 * queries.count),
                            buildSeconds: seconds[p]!))
        }
        return Report(images: n, queries: queries.count, regionsPerImage: rpi, embedDim: m.embedDim, candidates: candidates,
                      exactFloat16: RetentionStudy.Recall(ranks: exactRanks), rows: rows)
    }

    static func regionBytesPerImage(_ index: String) throws -> Double {
        let info = try IndexInfo(index: index)
        return Double(info.valueBytes["regions"] ?? 0) / Double(max(1, info.manifest.imageCount))
    }

    /// A record at 36 x 1024: the 32-byte header plus the payload; for float settings the payload
    /// shrinks by the zstd ratio measured on this collection (product-quantisation codes do not compress).
    static func paperBytes(_ p: Precision, measured: Double, float16Measured: Double, rows: Double, dim: Int) -> Double {
        let header = Double(RecordHeader.size)
        let measuredPayload = Double(p.payloadBytes(rows: 1, dim: dim)) * rows
        let ratio = p.isProductQuantized ? 1 : min(1, (measured - header) / max(1, measuredPayload))
        return header + Double(p.payloadBytes(rows: 36, dim: 1024)) * ratio
    }
}
