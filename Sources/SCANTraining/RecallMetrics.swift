import Foundation

/// One direction's result of the paper's recall protocol (DESIGN §4).
public struct RecallResult: Equatable, Sendable {
    public var r1: Double
    public var r5: Double
    public var r10: Double
    public var medr: Double
    public var meanr: Double
    /// 0-based rank of the ground truth for each query.
    public var ranks: [Int]
    /// The best-scoring item of each query.
    public var top1: [Int]

    /// r1, r5, r10, medr, meanr.
    public var values: [Double] { [r1, r5, r10, medr, meanr] }
    public var average: Double { (r1 + r5 + r10) / 3 }

    init(ranks: [Int], top1: [Int]) {
        self.ranks = ranks
        self.top1 = top1
        let n = Double(ranks.count)
        func recall(_ k: Int) -> Double { 100.0 * Double(ranks.filter { $0 < k }.count) / n }
        r1 = recall(1); r5 = recall(5); r10 = recall(10)
        // numpy: floor(median) + 1, median averaging the two middle values; mean + 1.
        let s = ranks.sorted()
        let med = s.count % 2 == 1 ? Double(s[s.count / 2]) : (Double(s[s.count / 2 - 1]) + Double(s[s.count / 2])) / 2
        medr = med.rounded(.down) + 1
        meanr = Double(ranks.reduce(0, +)) / n + 1
    }
}

/// The recall protocol on an (n_images x n_captions) similarity matrix, caption j belonging to
/// image j / captionsPerImage.
///
/// Ties follow a deterministic rule (the original's numpy argsort is unstable, so its tie order
/// depends on the numpy build): in the descending order of a query's scores, among equal scores the
/// item with the higher index comes first, which is what a stable ascending sort reversed gives.
public enum Recall {
    /// Position of `target` in the descending order of `scores` (stride `stride`, `count` items).
    @inline(__always)
    static func rank<T: BinaryFloatingPoint>(_ scores: UnsafePointer<T>, count: Int, stride: Int, target: Int) -> Int {
        let s = scores[target * stride]
        var r = 0
        for k in 0..<count {
            let v = scores[k * stride]
            if v > s || (v == s && k > target) { r += 1 }
        }
        return r
    }

    @inline(__always)
    static func argmax<T: BinaryFloatingPoint>(_ scores: UnsafePointer<T>, count: Int, stride: Int) -> Int {
        // The first of the descending order: the highest score, the highest index among ties.
        var best = 0
        for k in 1..<max(1, count) where scores[k * stride] >= scores[best * stride] { best = k }
        return best
    }

    /// Image to text: for each image, the best rank among its captions.
    public static func i2t<T: BinaryFloatingPoint>(_ sims: [T], images: Int, captions: Int, captionsPerImage: Int = 5) -> RecallResult {
        precondition(sims.count == images * captions)
        var ranks = [Int](repeating: 0, count: images), top1 = ranks
        sims.withUnsafeBufferPointer { sp in
            for i in 0..<images {
                let row = sp.baseAddress! + i * captions
                var best = Int.max
                for j in (i * captionsPerImage)..<min(captions, (i + 1) * captionsPerImage) {
                    best = min(best, rank(row, count: captions, stride: 1, target: j))
                }
                ranks[i] = best
                top1[i] = argmax(row, count: captions, stride: 1)
            }
        }
        return RecallResult(ranks: ranks, top1: top1)
    }

    /// Text to image: for each caption, the rank of its image.
    public static func t2i<T: BinaryFloatingPoint>(_ sims: [T], images: Int, captions: Int, captionsPerImage: Int = 5) -> RecallResult {
        precondition(sims.count == images * captions)
        var ranks = [Int](repeating: 0, count: captions), top1 = ranks
        sims.withUnsafeBufferPointer { sp in
            for j in 0..<captions {
                let col = sp.baseAddress! + j
                ranks[j] = rank(col, count: images, stride: captions, target: j / captionsPerImage)
                top1[j] = argmax(col, count: images, stride: captions)
            }
        }
        return RecallResult(ranks: ranks, top1: top1)
    }
}
