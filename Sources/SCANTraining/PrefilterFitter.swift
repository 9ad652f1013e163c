import Foundation
import SCANModel

/// Fits the prefilter's two projections contrastively on image-caption pairs with the SCAN model
/// frozen: symmetric InfoNCE over a batch of distinct images, one of their captions each, on the
/// cosine of the projected mean-pooled embeddings. Forward and backward are a handful of products.
public struct PrefilterFitter {
    public var dim = 256
    public var steps = 600
    public var batchSize = 256
    public var learningRate: Float = 1e-3
    public var temperature: Float = 0.05
    public var seed: UInt64 = 1

    public init() {}

    public struct Result {
        public var prefilter: Prefilter
        public var losses: [Float]
    }

    /// `images` (n x D) and `captions` (m x D) are mean-pooled SCAN embeddings; `imageOf[j]` is caption j's image.
    public func fit(images: Tensor, captions: Tensor, imageOf: [Int], metadata: [String: String] = [:],
                    progress: ProgressReporter? = nil) -> Result {
        let d = images.shape[1]
        let n = images.shape[0]
        precondition(captions.shape[1] == d && imageOf.count == captions.shape[0])
        var rng = SplitMix64(seed: seed)
        // Both sides start from the same random projection, so the first scores are close to the
        // plain mean's cosine (a random projection roughly preserves it).
        var a = Tensor(zeros: [dim, d])
        let scale = (1 / Float(dim)).squareRoot() * 1.7320508
        for i in 0..<a.count { a.data[i] = (rng.uniform() * 2 - 1) * scale }
        var c = a
        var adamA = AdamMoments(count: a.count), adamC = AdamMoments(count: c.count)
        var captionsOf = [[Int]](repeating: [], count: n)
        for (j, i) in imageOf.enumerated() { captionsOf[i].append(j) }
        let usable = (0..<n).filter { !captionsOf[$0].isEmpty }
        let b = min(batchSize, usable.count)
        var losses: [Float] = []
        var order = usable
        var cursor = order.count
        for step in 1...max(1, steps) {
            // Distinct images per batch; one random caption of each.
            var batchImages: [Int] = []
            while batchImages.count < b {
                if cursor >= order.count { order = rng.shuffled(order); cursor = 0 }
                batchImages.append(order[cursor]); cursor += 1
            }
            let batchCaptions = batchImages.map { captionsOf[$0][Int(rng.next() % UInt64(captionsOf[$0].count))] }
            var u = Tensor(zeros: [b, d]), v = Tensor(zeros: [b, d])
            for k in 0..<b {
                u.data.replaceSubrange((k * d)..<((k + 1) * d), with: images.data[(batchImages[k] * d)..<((batchImages[k] + 1) * d)])
                v.data.replaceSubrange((k * d)..<((k + 1) * d), with: captions.data[(batchCaptions[k] * d)..<((batchCaptions[k] + 1) * d)])
            }
            let (loss, gA, gC) = Self.lossAndGradients(a: a, c: c, u: u, v: v, temperature: temperature)
            losses.append(loss)
            adamA.step(&a.data, gradient: gA.data, lr: learningRate, t: step)
            adamC.step(&c.data, gradient: gC.data, lr: learningRate, t: step)
            progress?.update(step)
        }
        progress?.finish()
        var meta = metadata
        meta["steps"] = "\(steps)"; meta["batch_size"] = "\(b)"; meta["temperature"] = "\(temperature)"
        meta["learning_rate"] = "\(learningRate)"; meta["seed"] = "\(seed)"; meta["dim"] = "\(dim)"
        meta["final_loss"] = "\(losses.last ?? 0)"
        return Result(prefilter: Prefilter(imageProjection: a, textProjection: c, metadata: meta), losses: losses)
    }

    /// Symmetric InfoNCE of cos(A u_k, C v_l) / temperature with positives on the diagonal,
    /// and its gradients with respect to A and C.
    public static func lossAndGradients(a: Tensor, c: Tensor, u: Tensor, v: Tensor, temperature: Float) -> (Float, Tensor, Tensor) {
        let b = u.shape[0], p = a.shape[0]
        let x = BLAS.matmul(u, a, transB: true), y = BLAS.matmul(v, c, transB: true) // (b x p)
        func normalized(_ t: Tensor) -> (Tensor, [Float]) {
            var out = t
            var norms = [Float](repeating: 0, count: b)
            for k in 0..<b {
                var s: Float = 0
                for j in 0..<p { s += t.data[k * p + j] * t.data[k * p + j] }
                norms[k] = max(s.squareRoot(), 1e-12)
                for j in 0..<p { out.data[k * p + j] /= norms[k] }
            }
            return (out, norms)
        }
        let (xn, nx) = normalized(x), (yn, ny) = normalized(y)
        var s = BLAS.matmul(xn, yn, transB: true) // (b x b)
        for i in 0..<s.count { s.data[i] /= temperature }
        var ds = Tensor(zeros: [b, b])
        var loss: Float = 0
        // Softmax cross-entropy of every row of `at`: S itself (image -> captions), then S transposed
        // (caption -> images); the positive is the diagonal either way.
        func rowsCrossEntropy(_ at: (Int, Int) -> (Int, Int)) {
            for i in 0..<b {
                var m = -Float.infinity
                for j in 0..<b { let (r, c) = at(i, j); m = max(m, s[r, c]) }
                var z: Float = 0
                for j in 0..<b { let (r, c) = at(i, j); z += Foundation.exp(s[r, c] - m) }
                loss += (m + Foundation.log(z) - s[i, i])
                for j in 0..<b { let (r, c) = at(i, j); ds[r, c] += Foundation.exp(s[r, c] - m) / z - (i == j ? 1 : 0) }
            }
        }
        rowsCrossEntropy { i, j in (i, j) }
        rowsCrossEntropy { i, j in (j, i) }
        let scale = 1 / (2 * Float(b))
        loss *= scale
        for i in 0..<ds.count { ds.data[i] *= scale / temperature }
        // Through the cosine: d xn = dS yn, d yn = dS^T xn; then through the normalisation.
        let dxn = BLAS.matmul(ds, yn), dyn = BLAS.matmul(ds, xn, transA: true)
        func throughNorm(_ dn: Tensor, _ n: Tensor, _ norms: [Float]) -> Tensor {
            var out = dn
            for k in 0..<b {
                var dot: Float = 0
                for j in 0..<p { dot += n.data[k * p + j] * dn.data[k * p + j] }
                for j in 0..<p { out.data[k * p + j] = (dn.data[k * p + j] - n.data[k * p + j] * dot) / norms[k] }
            }
            return out
        }
        let dx = throughNorm(dxn, xn, nx), dy = throughNorm(dyn, yn, ny)
        return (loss, BLAS.matmul(dx, u, transA: true), BLAS.matmul(dy, v, transA: true))
    }
}

/// Adam moments for one flat parameter of the prefilter; the update is `Adam.step`.
struct AdamMoments {
    var m: [Float], v: [Float]
    init(count: Int) { m = [Float](repeating: 0, count: count); v = m }

    mutating func step(_ p: inout [Float], gradient g: [Float], lr: Float, t: Int) {
        precondition(p.count == m.count && g.count == m.count, "AdamMoments: \(p.count) parameters, \(g.count) gradients, \(m.count) moments")
        p.withUnsafeMutableBufferPointer { pB in g.withUnsafeBufferPointer { gB in
            m.withUnsafeMutableBufferPointer { mB in v.withUnsafeMutableBufferPointer { vB in
                Adam.step(parameters: pB.baseAddress!, gradients: gB.baseAddress!, m: mB.baseAddress!, v: vB.baseAddress!,
                          count: pB.count, t: t, learningRate: Double(lr))
            }}
        }}
    }
}

extension SplitMix64 {
    /// Fisher-Yates with this generator, so that a seed fixes the order on every platform.
    mutating func shuffled<T>(_ a: [T]) -> [T] {
        var out = a
        if out.count < 2 { return out }
        for i in stride(from: out.count - 1, to: 0, by: -1) {
            out.swapAt(i, Int(next() % UInt64(i + 1)))
        }
        return out
    }
}

extension PrefilterFitter {
    /// Encodes a precomp split with the frozen model, fits the projections and stores them in the
    /// model directory as `prefilter.safetensors`, recording the data they were fitted on.
    public func fit(modelDirectory: String, folder: String, split splitName: String, limitImages: Int? = nil,
                    quiet: Bool = false) throws -> Result {
        let dir = ModelDirectory(path: modelDirectory)
        let (model, vocab) = try dir.load()
        let split = try PrecompSplit(folder: folder, split: splitName)
        let evaluator = Evaluator(model: model, vocabulary: vocab)
        let nRows = min(split.images.shape[0], limitImages ?? Int.max)
        let captionIndices = (0..<split.captions.count).filter { split.imageRow(forCaption: $0) < nRows }
        let images = try evaluator.encodeImages(split, rows: Array(0..<nRows), quiet: quiet)
        let captions = try evaluator.encodeCaptions(captionIndices.map { split.captions[$0] }, quiet: quiet)
        let meta = ["fitted_on": folder, "split": splitName, "images": "\(nRows)", "captions": "\(captionIndices.count)",
                    "model_fingerprint": try dir.fingerprint()]
        let progress = quiet ? nil : ProgressReporter(label: "fit prefilter", total: steps, unit: "steps")
        let result = fit(images: images.meanPooled(), captions: captions.meanPooled(),
                         imageOf: captionIndices.map { split.imageRow(forCaption: $0) }, metadata: meta, progress: progress)
        try result.prefilter.save(modelDirectory: modelDirectory)
        return result
    }
}
