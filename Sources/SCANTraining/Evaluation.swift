import Foundation
import SCANModel

/// The paper's evaluation of one split (evalrank): encode, score exactly, recall, printed lines.
public struct Evaluation {
    public struct Options: Sendable {
        public var split = "test"
        public var fold5 = false
        public var precision = ScorePrecision.float32
        public var quiet = false
        /// Where the evaluation's own lines go (counts, similarity time); the tool passes stderr. A
        /// library does not print: nil sends them nowhere.
        public var log: (@Sendable (String) -> Void)?
        public init() {}
    }

    /// The result: one report (or five folds), the lines to print, and the matrix (or fold blocks).
    public struct Outcome {
        public var reports: [EvaluationReport]
        public var lines: [String]
        public var images: Int
        public var captions: Int
        /// Row-major similarities (one block per fold with --fold5), in the evaluation's precision.
        public var sims: [Double]
        public var simsShape: [Int]
        /// What the evaluation did that the user may not expect (e.g. --fold5 on other than 5000 images).
        public var notes: [String] = []

        public var json: [String: Any] {
            var j: [String: Any] = ["images": images, "captions": captions, "lines": lines]
            if !notes.isEmpty { j["notes"] = notes }
            if reports.count == 1 { j["metrics"] = reports[0].json } else {
                j["folds"] = reports.map { $0.json }
                let n = Double(reports.count)
                func mean(_ f: (EvaluationReport) -> Double) -> Double { reports.map(f).reduce(0, +) / n }
                j["mean"] = ["rsum": mean { $0.rsum },
                             "i2t": ["r1": mean { $0.i2t.r1 }, "r5": mean { $0.i2t.r5 }, "r10": mean { $0.i2t.r10 },
                                     "medr": mean { $0.i2t.medr }, "meanr": mean { $0.i2t.meanr }, "average": mean { $0.i2t.average }],
                             "t2i": ["r1": mean { $0.t2i.r1 }, "r5": mean { $0.t2i.r5 }, "r10": mean { $0.t2i.r10 },
                                     "medr": mean { $0.t2i.medr }, "meanr": mean { $0.t2i.meanr }, "average": mean { $0.t2i.average }]]
            }
            return j
        }
    }

    /// Evaluates `evaluators` (one model, or two whose similarity matrices are averaged: the paper's
    /// ensembles) on `split` of the precomp folder.
    public static func run(_ evaluators: [Evaluator], folder: String, options: Options) throws -> Outcome {
        precondition(!evaluators.isEmpty)
        let split = try PrecompSplit(folder: folder, split: options.split)
        // Every check that can fail runs before the long work.
        for e in evaluators { try split.validate(imgDim: e.model.config.imgDim) }
        let rows = split.evaluationImageRows
        let nImg = rows.count, nCap = split.captions.count
        if options.fold5 && (nImg % 5 != 0 || nImg < 5) {
            throw DatasetError.badFolds(reason: "\(nImg) images do not split into 5 folds")
        }
        if !options.quiet {
            options.log?("Images: \(nImg), Captions: \(nCap)")
        }
        var notes: [String] = []
        if options.fold5 && nImg != 5000 {
            notes.append("--fold5: \(nImg) images, not COCO's 5000: evaluated five folds of \(nImg / 5) images "
                         + "(\(nCap / 5) captions) each, not of 1000; the numbers are not COCO 1K results")
        }
        let folds = options.fold5 ? 5 : 1
        let foldImages = nImg / folds, foldCaptions = nCap / folds
        var encoded: [(EmbeddingSet, EmbeddingSet)] = []
        for e in evaluators {
            encoded.append((try e.encodeImages(split, rows: rows, quiet: options.quiet), try e.encodeCaptions(split.captions, quiet: options.quiet)))
        }
        var reports: [EvaluationReport] = []
        var lines: [String] = []
        var all: [Double] = []
        let t0 = ProgressReporter.now()
        for f in 0..<folds {
            var sims = [Double](repeating: 0, count: foldImages * foldCaptions)
            for (k, e) in evaluators.enumerated() {
                let imgs = encoded[k].0.subset((f * foldImages)..<((f + 1) * foldImages))
                let caps = encoded[k].1.subset((f * foldCaptions)..<((f + 1) * foldCaptions))
                let s: [Double]
                switch options.precision {
                case .float32: s = e.similarities(images: imgs, captions: caps, as: Float.self, quiet: options.quiet).map(Double.init)
                case .float64: s = e.similarities(images: imgs, captions: caps, as: Double.self, quiet: options.quiet)
                }
                for i in 0..<sims.count { sims[i] += s[i] }
            }
            if evaluators.count > 1 { for i in 0..<sims.count { sims[i] /= Double(evaluators.count) } }
            let report = EvaluationReport(sims: sims, images: foldImages, captions: foldCaptions)
            reports.append(report)
            if options.fold5 { lines += report.foldLines }
            all += sims
        }
        if !options.quiet {
            options.log?(String(format: "calculate similarity time: %.2f s", ProgressReporter.now() - t0))
        }
        if options.fold5 {
            lines += ["-----------------------------------", "Mean metrics: "] + EvaluationReport.meanLines(reports)
        } else {
            lines = reports[0].lines
        }
        return Outcome(reports: reports, lines: lines, images: nImg, captions: nCap, sims: all,
                       simsShape: options.fold5 ? [5, foldImages, foldCaptions] : [nImg, nCap], notes: notes)
    }
}
