import SCANCore

/// SCAN's text encoder: word embedding, a (bi-)GRU over packed sequences, the mean of the two
/// directions with bi_gru, then l2norm per word unless no_txtnorm.
public struct TextEncoder: Sendable {
    /// (vocab x word_dim)
    public var embedding: Tensor
    public var forward: GRUDirection
    public var backward: GRUDirection?
    public var normalize: Bool

    public var vocabSize: Int { embedding.shape[0] }
    public var wordDim: Int { embedding.shape[1] }
    public var embedSize: Int { forward.hidden }

    public init(embedding: Tensor, forward: GRUDirection, backward: GRUDirection?, normalize: Bool) {
        self.embedding = embedding; self.forward = forward; self.backward = backward; self.normalize = normalize
    }

    /// Checks ids and lengths before any work.
    public func validate(_ captions: [[Int]]) throws {
        for (i, c) in captions.enumerated() {
            if c.isEmpty { throw ModelError.invalidCaption(index: i, reason: "caption has zero tokens") }
            if let bad = c.first(where: { $0 < 0 || $0 >= vocabSize }) {
                throw ModelError.invalidCaption(index: i, reason: "token id \(bad) outside the vocabulary of \(vocabSize)")
            }
        }
    }

    /// Looks up the embeddings of all tokens: (T x word_dim), T = total tokens.
    public func embed(_ captions: [[Int]]) -> [Float] {
        let e = wordDim
        var x = [Float](repeating: 0, count: captions.reduce(0) { $0 + $1.count } * e)
        embedding.data.withUnsafeBufferPointer { table in
            x.withUnsafeMutableBufferPointer { xp in
                var row = 0
                for c in captions {
                    for id in c {
                        (xp.baseAddress! + row * e).update(from: table.baseAddress! + id * e, count: e)
                        row += 1
                    }
                }
            }
        }
        return x
    }

    /// Encodes captions given as token ids (each `[<start>] + words + [<end>]`); one item per caption.
    public func encode(_ captions: [[Int]]) throws -> EmbeddingSet {
        try validate(captions)
        var offsets = [0]
        for c in captions { offsets.append(offsets.last! + c.count) }
        let x = embed(captions)
        let tokens = offsets.last!
        func direction(_ d: GRUDirection, reverse: Bool) -> [Float] {
            let gi = x.withUnsafeBufferPointer { d.inputProjections($0.baseAddress!, tokens: tokens) }
            return d.run(inputProjections: gi, offsets: offsets, reverse: reverse)
        }
        var out = direction(forward, reverse: false)
        if let backward {
            let b = direction(backward, reverse: true)
            for i in 0..<out.count { out[i] = (out[i] + b[i]) / 2 }
        }
        if normalize { VectorOps.l2normalizeRows(&out, dim: embedSize) }
        return EmbeddingSet(dim: embedSize, offsets: offsets, data: out)
    }
}
