/// The original's `ContrastiveLoss` (VSE++ hinge) on a square batch, forward and backward.
///
/// scores S (n x n), image i pairs caption i, d = diag(S):
///   cost_s[i,j] = max(0, margin + S[i,j] - d[i]), cost_im[i,j] = max(0, margin + S[i,j] - d[j]), diagonals zeroed;
///   max_violation: sum_i max_j cost_s[i,j] + sum_j max_i cost_im[i,j]; otherwise the sum of both matrices.
/// Two captions of the same image in one batch count as negatives, as in the original.
public enum ContrastiveLoss {
    /// The loss (accumulated in Double) and dL/dS (n x n).
    public static func forwardBackward<T: TrainScalar>(scores s: [T], count n: Int, margin: Double,
                                                       maxViolation: Bool) -> (loss: Double, dScores: [T]) {
        precondition(s.count == n * n, "the contrastive loss needs a square batch")
        var dS = [T](repeating: 0, count: n * n)
        // torch's clamp and max propagate NaN; Swift's comparisons would silently drop it.
        if s.contains(where: { !$0.isFinite }) { return (.nan, dS) }
        var loss = 0.0
        let m = T(margin)
        // Hinge inputs; torch's clamp(min=0) passes the gradient where its input is >= 0.
        @inline(__always) func costS(_ i: Int, _ j: Int) -> T { m + s[i * n + j] - s[i * n + i] }
        @inline(__always) func costIm(_ i: Int, _ j: Int) -> T { m + s[i * n + j] - s[j * n + j] }
        if maxViolation {
            // Row i of cost_s: the largest violation; a row of zeros (no violation) gives no gradient.
            for i in 0..<n {
                var best = -1
                var bestValue: T = 0
                for j in 0..<n where j != i {
                    let v = costS(i, j)
                    if v > bestValue { bestValue = v; best = j }
                }
                if best >= 0 {
                    loss += Double(bestValue)
                    dS[i * n + best] += 1
                    dS[i * n + i] -= 1
                }
            }
            for j in 0..<n {
                var best = -1
                var bestValue: T = 0
                for i in 0..<n where i != j {
                    let v = costIm(i, j)
                    if v > bestValue { bestValue = v; best = i }
                }
                if best >= 0 {
                    loss += Double(bestValue)
                    dS[best * n + j] += 1
                    dS[j * n + j] -= 1
                }
            }
        } else {
            for i in 0..<n {
                for j in 0..<n where j != i {
                    let a = costS(i, j)
                    if a >= 0 {
                        loss += Double(a)
                        dS[i * n + j] += 1
                        dS[i * n + i] -= 1
                    }
                    let b = costIm(i, j)
                    if b >= 0 {
                        loss += Double(b)
                        dS[i * n + j] += 1
                        dS[j * n + j] -= 1
                    }
                }
            }
        }
        return (loss, dS)
    }
}
