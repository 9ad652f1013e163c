import SCANTraining
import TestSupport
import XCTest

final class PrefilterFitterTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() {
        var rng = TestRNG(seed: 11)
        let (b, d, p) = (6, 5, 4)
        func rand(_ shape: [Int]) -> Tensor { Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.uniform(-1, 1) }) }
        let a = rand([p, d]), c = rand([p, d]), u = rand([b, d]), v = rand([b, d])
        let (_, ga, gc) = PrefilterFitter.lossAndGradients(a: a, c: c, u: u, v: v, temperature: 0.5)
        let h: Float = 1e-2
        for (which, grad) in [(0, ga), (1, gc)] {
            for idx in [0, 3, 7, 11, 19] {
                var plus = which == 0 ? a : c, minus = plus
                plus.data[idx] += h; minus.data[idx] -= h
                let lp = which == 0 ? PrefilterFitter.lossAndGradients(a: plus, c: c, u: u, v: v, temperature: 0.5).0
                                    : PrefilterFitter.lossAndGradients(a: a, c: plus, u: u, v: v, temperature: 0.5).0
                let lm = which == 0 ? PrefilterFitter.lossAndGradients(a: minus, c: c, u: u, v: v, temperature: 0.5).0
                                    : PrefilterFitter.lossAndGradients(a: a, c: minus, u: u, v: v, temperature: 0.5).0
                let fd = (lp - lm) / (2 * h)
                XCTAssertEqual(grad.data[idx], fd, accuracy: 2e-3 + 2e-2 * abs(fd), "projection \(which) element \(idx)")
            }
        }
    }

    func testFittingImprovesRetrievalOverThePlainMean() {
        // Captions see the image's content through a fixed linear distortion plus noise: the plain
        // mean's cosine is weak, a fitted pair of projections undoes the distortion.
        var rng = TestRNG(seed: 5)
        let (n, d) = (300, 16)
        var mix = [Float](repeating: 0, count: d * d)
        for i in 0..<mix.count { mix[i] = rng.uniform(-1, 1) }
        var images = Tensor(zeros: [n, d]), captions = Tensor(zeros: [n * 2, d])
        for i in 0..<n { for k in 0..<d { images[i, k] = rng.uniform(-1, 1) } }
        for j in 0..<(2 * n) {
            let i = j / 2
            for k in 0..<d {
                var s: Float = 0
                for l in 0..<d { s += mix[k * d + l] * images[i, l] }
                captions[j, k] = s + 0.1 * rng.uniform(-1, 1)
            }
        }
        let imageOf = (0..<(2 * n)).map { $0 / 2 }
        func recallAt1(_ pf: Prefilter) -> Double {
            let iv = pf.vectors(EmbeddingSet(uniform: images.reshaped([n, 1, d])), side: .image)
            let cv = pf.vectors(EmbeddingSet(uniform: captions.reshaped([2 * n, 1, d])), side: .text)
            let s = BLAS.matmul(iv, cv, transB: true)
            return Recall.t2i(s.data, images: n, captions: 2 * n, captionsPerImage: 2).r1
        }
        var fitter = PrefilterFitter()
        fitter.dim = 16; fitter.steps = 300; fitter.batchSize = 64; fitter.learningRate = 1e-2; fitter.temperature = 0.1
        let fitted = fitter.fit(images: images, captions: captions, imageOf: imageOf)
        let plain = recallAt1(Prefilter(plainMeanOf: d)), after = recallAt1(fitted.prefilter)
        XCTAssertGreaterThan(after, plain + 20, "plain \(plain) fitted \(after)")
        XCTAssertLessThan(fitted.losses.suffix(20).reduce(0, +), fitted.losses.prefix(20).reduce(0, +))
    }
}
