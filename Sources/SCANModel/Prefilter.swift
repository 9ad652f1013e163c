import Foundation

/// The cheap first stage of search: each side's mean-pooled SCAN embedding, optionally passed
/// through a linear projection fitted to the model (`prefilter.safetensors` in the model
/// directory), l2-normalised; an image's prefilter score is the dot product of the two vectors.
///
/// Plain mean pooling keeps the right image in the top 50 for far fewer captions than SCAN itself
/// finds (the issue measured 72% vs 97.7% on an original Flickr30K checkpoint); the fitted
/// projection closes most of that gap at the same cost.
public struct Prefilter: Sendable {
    public enum Kind: String, Sendable { case mean, projection }

    public let kind: Kind
    /// (P x D) each; nil for the plain mean.
    public let imageProjection: Tensor?
    public let textProjection: Tensor?
    public let metadata: [String: String]

    /// Output dimension.
    public var dim: Int { imageProjection?.shape[0] ?? inputDim }
    public let inputDim: Int

    public static let fileName = "prefilter.safetensors"

    public init(plainMeanOf dim: Int) {
        kind = .mean; imageProjection = nil; textProjection = nil; metadata = [:]; inputDim = dim
    }

    public init(imageProjection: Tensor, textProjection: Tensor, metadata: [String: String] = [:]) {
        precondition(imageProjection.shape == textProjection.shape && imageProjection.rank == 2)
        kind = .projection
        self.imageProjection = imageProjection
        self.textProjection = textProjection
        self.metadata = metadata
        inputDim = imageProjection.shape[1]
    }

    /// The model directory's fitted prefilter, or nil when it has none.
    public static func load(modelDirectory: String, embedSize: Int) throws -> Prefilter? {
        let path = (modelDirectory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafetensorsFile(path: path)
        let a = try file.tensor("image_projection"), b = try file.tensor("text_projection")
        guard a.rank == 2, a.shape == b.shape, a.shape[1] == embedSize else {
            throw ModelError.weightShape(file: path, name: "image_projection", expected: [a.shape.first ?? 0, embedSize], found: a.shape)
        }
        return Prefilter(imageProjection: a, textProjection: b, metadata: file.metadata)
    }

    public func save(modelDirectory: String) throws {
        guard let imageProjection, let textProjection else { return }
        var file = SafetensorsFile(path: "", metadata: metadata)
        file.entries["image_projection"] = .float32(imageProjection)
        file.entries["text_projection"] = .float32(textProjection)
        try file.write(to: (modelDirectory as NSString).appendingPathComponent(Self.fileName))
    }

    /// Prefilter vectors (count x dim, l2-normalised) of the items of a set, images or captions.
    public func vectors(_ set: EmbeddingSet, side: Side) -> Tensor {
        var pooled = set.meanPooled()
        if let w = side == .image ? imageProjection : textProjection {
            pooled = BLAS.matmul(pooled, w, transB: true)
        }
        VectorOps.l2normalizeRows(&pooled.data, dim: pooled.shape[1])
        return pooled
    }

    public enum Side: Sendable { case image, text }
}
