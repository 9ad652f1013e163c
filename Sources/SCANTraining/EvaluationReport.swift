import Foundation

/// Both directions' recall and the lines the original's `evalrank` prints.
public struct EvaluationReport: Sendable {
    public var i2t: RecallResult
    public var t2i: RecallResult

    public init(i2t: RecallResult, t2i: RecallResult) { self.i2t = i2t; self.t2i = t2i }

    public init<T: BinaryFloatingPoint>(sims: [T], images: Int, captions: Int) {
        self.init(i2t: Recall.i2t(sims, images: images, captions: captions),
                  t2i: Recall.t2i(sims, images: images, captions: captions))
    }

    public var rsum: Double { i2t.r1 + i2t.r5 + i2t.r10 + t2i.r1 + t2i.r5 + t2i.r10 }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    /// `rsum: ...`, `Average i2t Recall: ...`, `Image to text: ...`, `Average t2i Recall: ...`, `Text to image: ...`.
    public var lines: [String] {
        Self.summaryLines(rsum: rsum, ar: i2t.average, ari: t2i.average, r: i2t.values, ri: t2i.values)
    }

    static func summaryLines(rsum: Double, ar: Double, ari: Double, r: [Double], ri: [Double]) -> [String] {
        ["rsum: \(f(rsum))",
         "Average i2t Recall: \(f(ar))",
         "Image to text: " + r.map(f).joined(separator: " "),
         "Average t2i Recall: \(f(ari))",
         "Text to image: " + ri.map(f).joined(separator: " ")]
    }

    /// The per-fold lines of the original's 5-fold evaluation (comma separated, as it prints them).
    public var foldLines: [String] {
        ["Image to text: " + i2t.values.map(Self.f).joined(separator: ", "),
         "Text to image: " + t2i.values.map(Self.f).joined(separator: ", "),
         "rsum: \(Self.f(rsum)) ar: \(Self.f(i2t.average)) ari: \(Self.f(t2i.average))"]
    }

    /// The mean over folds. The original prints rsum as 6 x the mean i2t average and the two
    /// "Average ... Recall" lines from the wrong columns (DESIGN §4); these are the correct values.
    public static func meanLines(_ folds: [EvaluationReport]) -> [String] {
        let n = Double(folds.count)
        func mean(_ f: (EvaluationReport) -> Double) -> Double { folds.map(f).reduce(0, +) / n }
        let r = (0..<5).map { k in mean { $0.i2t.values[k] } }
        let ri = (0..<5).map { k in mean { $0.t2i.values[k] } }
        return summaryLines(rsum: mean { $0.rsum }, ar: mean { $0.i2t.average }, ari: mean { $0.t2i.average }, r: r, ri: ri)
    }

    /// Every metric plus the per-query ranks, for `--json`.
    public var json: [String: Any] {
        func dir(_ r: RecallResult) -> [String: Any] {
            ["r1": r.r1, "r5": r.r5, "r10": r.r10, "medr": r.medr, "meanr": r.meanr, "average": r.average,
             "ranks": r.ranks, "top1": r.top1]
        }
        return ["rsum": rsum, "i2t": dir(i2t), "t2i": dir(t2i)]
    }
}
