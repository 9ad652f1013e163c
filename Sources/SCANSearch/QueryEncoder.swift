import Dispatch
import SCANCore
import SCANModel

/// Encodes one query caption like `TextEncoder.encode` does (same functions, same arithmetic, so the
/// same embedding bit for bit), but runs the two GRU directions of a bi-GRU at the same time on two
/// threads: for a single caption each step is a matrix-vector product that one core runs as fast as
/// two, so the directions in parallel halve the time without multithreaded BLAS.
enum QueryEncoder {
    static func encode(_ enc: TextEncoder, ids: [Int]) throws -> EmbeddingSet {
        try enc.validate([ids])
        let tokens = ids.count
        let offsets = [0, tokens]
        let x = enc.embed([ids])
        func direction(_ d: GRUDirection, reverse: Bool) -> [Float] {
            let gi = x.withUnsafeBufferPointer { d.inputProjections($0.baseAddress!, tokens: tokens) }
            return d.run(inputProjections: gi, offsets: offsets, reverse: reverse)
        }
        var out: [Float]
        if let backward = enc.backward {
            var results: [[Float]] = [[], []]
            results.withUnsafeMutableBufferPointer { r in
                let base = r.baseAddress!
                let run = { (k: Int) in base[k] = k == 0 ? direction(enc.forward, reverse: false) : direction(backward, reverse: true) }
                if Parallel.available >= 2 { DispatchQueue.concurrentPerform(iterations: 2, execute: run) } else { run(0); run(1) }
            }
            out = results[0]
            let b = results[1]
            for i in 0..<out.count { out[i] = (out[i] + b[i]) / 2 }
        } else {
            out = direction(enc.forward, reverse: false)
        }
        if enc.normalize { VectorOps.l2normalizeRows(&out, dim: enc.embedSize) }
        return EmbeddingSet(dim: enc.embedSize, offsets: offsets, data: out)
    }
}
