import Foundation
import SCANModel

/// Arithmetic of the similarity matrix in evaluation.
public enum ScorePrecision: String, CaseIterable, Sendable {
    /// Exact float32 (the default).
    case float32
    /// The original's arithmetic: float32 embeddings multiplied in float64.
    case float64
}

/// Encodes a split and computes the exact similarity matrix with the model's own cross attention.
public struct Evaluator: Sendable {
    public let model: SCAN
    public let vocabulary: Vocabulary
    public var imageBatch = 128
    public var captionBatch = 256

    public init(model: SCAN, vocabulary: Vocabulary) { self.model = model; self.vocabulary = vocabulary }

    /// Encodes the given image rows of a precomp split in batches (BLAS spreads each over the cores).
    public func encodeImages(_ split: PrecompSplit, rows: [Int], quiet: Bool = false, validate: Bool = true) throws -> EmbeddingSet {
        if validate { try split.validate(imgDim: model.config.imgDim) }
        let per = split.regionsPerImage * split.featureDim
        var out = EmbeddingSet(dim: model.config.embedSize)
        out.data.reserveCapacity(rows.count * split.regionsPerImage * model.config.embedSize)
        let progress = quiet ? nil : ProgressReporter(label: "encode images", total: rows.count, unit: "images")
        var start = 0
        var buffer = [Float](repeating: 0, count: min(imageBatch, rows.count) * per)
        while start < rows.count {
            let batch = Array(rows[start..<min(rows.count, start + imageBatch)])
            buffer.withUnsafeMutableBufferPointer { b in
                for (k, r) in batch.enumerated() { split.images.copyFloats(offset: r * per, count: per, into: b.baseAddress! + k * per) }
            }
            let t = Tensor(shape: [batch.count, split.regionsPerImage, split.featureDim], data: Array(buffer[0..<(batch.count * per)]))
            out.append(contentsOf: try model.encodeImages(t))
            start += batch.count
            progress?.update(start)
        }
        progress?.finish()
        return out
    }

    /// Tokenises (in parallel) and encodes captions in batches.
    public func encodeCaptions(_ captions: [String], quiet: Bool = false) throws -> EmbeddingSet {
        let ids = try Self.tokenize(captions, vocabulary: vocabulary)
        var out = EmbeddingSet(dim: model.config.embedSize)
        let progress = quiet ? nil : ProgressReporter(label: "encode captions", total: ids.count, unit: "captions")
        var start = 0
        while start < ids.count {
            let end = min(ids.count, start + captionBatch)
            out.append(contentsOf: try model.encodeCaptions(Array(ids[start..<end])))
            start = end
            progress?.update(start)
        }
        progress?.finish()
        return out
    }

    /// Caption text to ids (`[<start>] + words + [<end>]`), spread over the cores.
    public static func tokenize(_ captions: [String], vocabulary: Vocabulary) throws -> [[Int]] {
        var ids = [[Int]](repeating: [], count: captions.count)
        let tokenizer = Tokenizer()
        ids.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            Parallel.forChunks(captions.count, minChunk: 64) { range in
                for j in range { base[j] = vocabulary.encode(tokens: tokenizer.tokenize(captions[j])) }
            }
        }
        return ids
    }

    /// The exact (n_images x n_captions) matrix with the model's cross attention, agg_func and lambdas.
    public func similarities<T: ScoringScalar>(images: EmbeddingSet, captions: EmbeddingSet, as: T.Type, quiet: Bool = false) -> [T] {
        let progress = quiet ? nil : ProgressReporter(label: "similarity", total: images.count * captions.count, unit: "pairs")
        let sims = SimilarityScorer(attention: model.attention).scores(images: images, captions: captions, as: T.self) { done, _ in
            progress?.update(done)
        }
        progress?.finish()
        return sims
    }
}
