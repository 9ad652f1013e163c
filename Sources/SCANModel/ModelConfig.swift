import Foundation

/// SCAN's hyper-parameters under the original option names and defaults (train.py).
///
/// `config.json` of a model directory holds these keys (plus whatever else the original's `opt`
/// carried, which is kept in `extra` and written back unchanged).
public struct ModelConfig: Equatable, Sendable {
    public var embedSize = 1024
    public var wordDim = 300
    public var imgDim = 2048
    public var vocabSize = 8480
    public var numLayers = 1
    public var biGRU = false
    public var noImgnorm = false
    public var noTxtnorm = false
    public var precompEncType = PrecompEncType.basic
    public var rawFeatureNorm = RawFeatureNorm.clippedL2norm
    public var aggFunc = AggFunc.logSumExp
    public var crossAttn = CrossAttn.t2i
    public var lambdaLSE: Double = 6
    public var lambdaSoftmax: Double = 9
    public var margin: Double = 0.2
    public var maxViolation = false
    public var gradClip: Double = 2
    public var learningRate: Double = 0.0002
    public var lrUpdate = 15
    public var numEpochs = 30
    public var batchSize = 128
    /// Other fields of the original's `opt` (paths, logging), kept verbatim as JSON values.
    public var extra: [String: JSONValue] = [:]

    public init() {}

    static let intKeys = ["embed_size", "word_dim", "img_dim", "vocab_size", "num_layers", "lr_update", "num_epochs", "batch_size"]
    static let boolKeys = ["bi_gru", "no_imgnorm", "no_txtnorm", "max_violation"]
    static let doubleKeys = ["lambda_lse", "lambda_softmax", "margin", "grad_clip", "learning_rate"]
    static let enumKeys = ["precomp_enc_type", "raw_feature_norm", "agg_func", "cross_attn"]

    /// Parses a config object. Unknown values of the enumerated options are errors naming `file`.
    public init(json: [String: JSONValue], file: String) throws {
        func int(_ k: String, _ v: inout Int) throws {
            guard let j = json[k] else { return }
            // Int(exactly:) refuses what Int(_:) would trap on (beyond +-2^63).
            guard let d = j.number, let i = Int(exactly: d) else { throw ModelError.invalidOption(file: file, field: k, reason: "expected an integer, found \(j)") }
            v = i
        }
        func bool(_ k: String, _ v: inout Bool) throws {
            guard let j = json[k] else { return }
            guard let b = j.bool else { throw ModelError.invalidOption(file: file, field: k, reason: "expected true or false, found \(j)") }
            v = b
        }
        func double(_ k: String, _ v: inout Double) throws {
            guard let j = json[k] else { return }
            guard let d = j.number else { throw ModelError.invalidOption(file: file, field: k, reason: "expected a number, found \(j)") }
            v = d
        }
        func enumeration<E: RawRepresentable & CaseIterable>(_ k: String, _ v: inout E) throws where E.RawValue == String {
            guard let j = json[k] else { return }
            guard let s = j.string else { throw ModelError.invalidOption(file: file, field: k, reason: "expected a string, found \(j)") }
            guard let e = E(rawValue: s) else {
                throw ModelError.unknownOptionValue(file: file, field: k, value: s, allowed: E.allCases.map { $0.rawValue })
            }
            v = e
        }
        try int("embed_size", &embedSize); try int("word_dim", &wordDim); try int("img_dim", &imgDim)
        try int("vocab_size", &vocabSize); try int("num_layers", &numLayers); try int("lr_update", &lrUpdate)
        try int("num_epochs", &numEpochs); try int("batch_size", &batchSize)
        try bool("bi_gru", &biGRU); try bool("no_imgnorm", &noImgnorm); try bool("no_txtnorm", &noTxtnorm)
        try bool("max_violation", &maxViolation)
        try double("lambda_lse", &lambdaLSE); try double("lambda_softmax", &lambdaSoftmax); try double("margin", &margin)
        try double("grad_clip", &gradClip); try double("learning_rate", &learningRate)
        try enumeration("precomp_enc_type", &precompEncType); try enumeration("raw_feature_norm", &rawFeatureNorm)
        try enumeration("agg_func", &aggFunc); try enumeration("cross_attn", &crossAttn)
        let known = Set(Self.intKeys + Self.boolKeys + Self.doubleKeys + Self.enumKeys)
        extra = json.filter { !known.contains($0.key) }
        try validate(file: file)
    }

    /// Checks ranges and the combinations this implementation supports.
    public func validate(file: String) throws {
        for (k, v) in [("embed_size", embedSize), ("word_dim", wordDim), ("img_dim", imgDim), ("vocab_size", vocabSize)] where v <= 0 {
            throw ModelError.invalidOption(file: file, field: k, reason: "must be positive, found \(v)")
        }
        if numLayers != 1 {
            throw ModelError.unsupported(field: "num_layers", reason: "only 1 GRU layer is implemented (found \(numLayers)); the paper uses 1")
        }
        if rawFeatureNorm == .l1norm || rawFeatureNorm == .clippedL1norm {
            // The original calls an undefined l1norm_d here; we define it (DESIGN §3) and accept it.
        }
    }

    public var json: [String: JSONValue] {
        var j = extra
        j["embed_size"] = .number(Double(embedSize)); j["word_dim"] = .number(Double(wordDim))
        j["img_dim"] = .number(Double(imgDim)); j["vocab_size"] = .number(Double(vocabSize))
        j["num_layers"] = .number(Double(numLayers)); j["lr_update"] = .number(Double(lrUpdate))
        j["num_epochs"] = .number(Double(numEpochs)); j["batch_size"] = .number(Double(batchSize))
        j["bi_gru"] = .bool(biGRU); j["no_imgnorm"] = .bool(noImgnorm); j["no_txtnorm"] = .bool(noTxtnorm)
        j["max_violation"] = .bool(maxViolation)
        j["lambda_lse"] = .number(lambdaLSE); j["lambda_softmax"] = .number(lambdaSoftmax); j["margin"] = .number(margin)
        j["grad_clip"] = .number(gradClip); j["learning_rate"] = .number(learningRate)
        j["precomp_enc_type"] = .string(precompEncType.rawValue); j["raw_feature_norm"] = .string(rawFeatureNorm.rawValue)
        j["agg_func"] = .string(aggFunc.rawValue); j["cross_attn"] = .string(crossAttn.rawValue)
        return j
    }

    public static func load(path: String) throws -> ModelConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.missingFile(path: path) }
        return try parse(data, file: path)
    }

    /// Parses the bytes of a config.json; `file` names it in errors.
    static func parse(_ data: Data, file path: String) throws -> ModelConfig {
        guard case let .object(obj)? = try? JSONValue.parse(data) else {
            throw ModelError.invalidOption(file: path, field: "(file)", reason: "not a JSON object")
        }
        return try ModelConfig(json: obj, file: path)
    }

    public func write(to path: String) throws {
        try JSONValue.object(json).serialized(pretty: true).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
