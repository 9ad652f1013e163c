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
            // The hardest negative of every row of `at`: S itself for cost_s, S transposed for cost_im
            // (the row's positive is then the diagonal either way). Its violation joins the loss, +1 goes
            // to the negative's score, -1 to the positive's; a row without violation gives no gradient.
            func hardestNegatives(_ at: (Int, Int) -> Int) {
                for i in 0..<n {
                    var best = -1
                    var bestValue: T = 0
                    for j in 0..<n where j != i {
                        let v = m + s[at(i, j)] - s[i * n + i]
                        if v > bestValue { bestValue = v; best = j }
                    }
                    if best >= 0 {
                        loss += Double(bestValue)
                        dS[at(i, best)] += 1
                        dS[i * n + i] -= 1
                    }
                }
            }
            hardestNegatives { i, j in i * n + j }
            hardestNegatives { i, j in j * n + i }
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
