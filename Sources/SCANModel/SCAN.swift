import Foundation
import SCANCore

/// A SCAN model for inference: configuration, image encoder and text encoder.
///
/// Parameters carry the original state-dict names with the prefixes `img_enc.` and `txt_enc.`
/// (DESIGN §6), so that converted original checkpoints load unchanged.
public struct SCAN: Sendable {
    public var config: ModelConfig
    public var imageEncoder: ImageEncoder
    public var textEncoder: TextEncoder

    /// The parameter names and shapes a configuration needs, text encoder first (the original's
    /// order for the total gradient norm), then the image encoder.
    public static func parameterShapes(_ c: ModelConfig) -> [(name: String, shape: [Int])] {
        let h = c.embedSize
        var out: [(String, [Int])] = [("txt_enc.embed.weight", [c.vocabSize, c.wordDim])]
        for suffix in c.biGRU ? ["", "_reverse"] : [""] {
            out += [("txt_enc.rnn.weight_ih_l0" + suffix, [3 * h, c.wordDim]),
                    ("txt_enc.rnn.weight_hh_l0" + suffix, [3 * h, h]),
                    ("txt_enc.rnn.bias_ih_l0" + suffix, [3 * h]),
                    ("txt_enc.rnn.bias_hh_l0" + suffix, [3 * h])]
        }
        switch c.precompEncType {
        case .basic:
            out += [("img_enc.fc.weight", [h, c.imgDim]), ("img_enc.fc.bias", [h])]
        case .weightNorm:
            out += [("img_enc.fc.bias", [h]), ("img_enc.fc.weight_g", []), ("img_enc.fc.weight_v", [h, c.imgDim])]
        }
        return out.map { (name: $0.0, shape: $0.1) }
    }

    /// Builds the model from named parameters, checking every name and shape against `config`.
    public init(config: ModelConfig, parameters: [String: Tensor], file: String = "<parameters>") throws {
        try config.validate(file: file)
        for (name, shape) in Self.parameterShapes(config) {
            guard let t = parameters[name] else { throw ModelError.missingWeight(file: file, name: name) }
            // A 0-dim scalar may also arrive as shape [1].
            let ok = t.shape == shape || (shape.isEmpty && t.count == 1)
            if !ok { throw ModelError.weightShape(file: file, name: name, expected: shape, found: t.shape) }
        }
        if !config.biGRU, parameters["txt_enc.rnn.weight_ih_l0_reverse"] != nil {
            throw ModelError.invalidOption(file: file, field: "bi_gru", reason: "false, but the weights hold a reverse GRU direction")
        }
        self.config = config
        let weight: Tensor
        switch config.precompEncType {
        case .basic: weight = parameters["img_enc.fc.weight"]!
        case .weightNorm:
            weight = ImageEncoder.weightNormEffective(g: parameters["img_enc.fc.weight_g"]!.data[0], v: parameters["img_enc.fc.weight_v"]!)
        }
        imageEncoder = ImageEncoder(weight: weight, bias: parameters["img_enc.fc.bias"]!.data, normalize: !config.noImgnorm)
        func direction(_ suffix: String) -> GRUDirection {
            GRUDirection(weightIH: parameters["txt_enc.rnn.weight_ih_l0" + suffix]!,
                         weightHH: parameters["txt_enc.rnn.weight_hh_l0" + suffix]!,
                         biasIH: parameters["txt_enc.rnn.bias_ih_l0" + suffix]!.data,
                         biasHH: parameters["txt_enc.rnn.bias_hh_l0" + suffix]!.data)
        }
        textEncoder = TextEncoder(embedding: parameters["txt_enc.embed.weight"]!,
                                  forward: direction(""),
                                  backward: config.biGRU ? direction("_reverse") : nil,
                                  normalize: !config.noTxtnorm)
    }

    /// Loads the parameters from a safetensors file (any float dtype).
    public init(config: ModelConfig, safetensors: SafetensorsFile) throws {
        var params: [String: Tensor] = [:]
        for (name, _) in Self.parameterShapes(config) {
            guard safetensors.entries[name] != nil else { throw ModelError.missingWeight(file: safetensors.path, name: name) }
            params[name] = try safetensors.tensor(name)
        }
        try self.init(config: config, parameters: params, file: safetensors.path)
    }

    /// Encodes precomputed region features (n_images x n_regions x img_dim).
    public func encodeImages(_ features: Tensor) throws -> EmbeddingSet {
        guard features.rank == 3 else {
            throw ModelError.featureDimension(source: "images", expected: config.imgDim, found: features.shape.last ?? 0)
        }
        guard features.shape[2] == config.imgDim else {
            throw ModelError.featureDimension(source: "images", expected: config.imgDim, found: features.shape[2])
        }
        return imageEncoder.encode(features)
    }

    /// Encodes ragged region features (dim = img_dim).
    public func encodeImages(_ features: EmbeddingSet, source: String = "images") throws -> EmbeddingSet {
        guard features.dim == config.imgDim else {
            throw ModelError.featureDimension(source: source, expected: config.imgDim, found: features.dim)
        }
        return imageEncoder.encode(features)
    }

    /// Encodes captions given as token ids.
    public func encodeCaptions(_ captions: [[Int]]) throws -> EmbeddingSet {
        try textEncoder.encode(captions)
    }

    /// The model's cross attention settings.
    public var attention: CrossAttention { CrossAttention(config: config) }
}
