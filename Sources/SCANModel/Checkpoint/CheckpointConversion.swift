import Foundation

/// An original checkpoint turned into the files of a model directory, with the rules of
/// `Tools/convert_checkpoint.py`: `model.safetensors` byte for byte (F32, names sorted, header JSON
/// as Python writes it), `config.json` equal (every option of `opt` under its original name, the
/// options old checkpoints lack filled in and listed in `filled_defaults`, the ones the weights
/// determine checked against them).
public struct CheckpointConversion: Sendable {
    public static let format = "scan-swift-model"
    public static let formatVersion: Int64 = 1
    public static let reservedKeys = ["format", "format_version", "filled_defaults"]

    /// The original train.py's defaults of the options the model or training depend on, in the
    /// converter's order (which is the order of `filled_defaults`).
    public static let trainDefaults: [(String, OptionValue)] = [
        ("embed_size", .int(1024)), ("word_dim", .int(300)), ("img_dim", .int(2048)), ("num_layers", .int(1)),
        ("bi_gru", .bool(false)), ("no_imgnorm", .bool(false)), ("no_txtnorm", .bool(false)),
        ("precomp_enc_type", .string("basic")), ("raw_feature_norm", .string("clipped_l2norm")),
        ("agg_func", .string("LogSumExp")), ("cross_attn", .string("t2i")), ("lambda_lse", .float(6.0)),
        ("lambda_softmax", .float(9.0)), ("margin", .float(0.2)), ("max_violation", .bool(false)),
        ("grad_clip", .float(2.0)), ("learning_rate", .float(0.0002)), ("lr_update", .int(15)),
        ("num_epochs", .int(30)), ("batch_size", .int(128)),
    ]

    static let knownValues: [(String, [String])] = [
        ("raw_feature_norm", ["clipped_l2norm", "l2norm", "clipped_l1norm", "l1norm", "clipped", "no_norm", "softmax"]),
        ("agg_func", ["LogSumExp", "Mean", "Max", "Sum"]),
        ("cross_attn", ["t2i", "i2t"]),
    ]

    /// config.json's object (options, filled defaults, format keys).
    public let config: [(String, OptionValue)]
    /// Options that were missing and filled in, in the converter's order.
    public let filledDefaults: [String]
    /// The weights as written (weight_g of weight_norm as a 0-dim scalar).
    public let weights: [OriginalCheckpoint.Weight]
    /// The safetensors `__metadata__`: format, source (the file's base name), epoch, best_rsum, Eiters.
    public let metadata: [(String, String)]
    /// Lines for stderr: a missing `opt`, option values the original does not know.
    public let warnings: [String]
    /// Rows of txt_enc.embed.weight: the vocabulary must have this many words.
    public let vocabSize: Int

    public init(_ checkpoint: OriginalCheckpoint, sourceName: String? = nil) throws {
        let file = checkpoint.file
        var warnings: [String] = []
        var tensors: [String: OriginalCheckpoint.Weight] = [:]
        var order: [String] = []
        for w in checkpoint.weights { tensors[w.name] = w; order.append(w.name) }
        func fail(_ field: String, _ reason: String) -> CheckpointError { .inconsistent(file: file, field: field, reason: reason) }
        func need(_ name: String) throws -> OriginalCheckpoint.Weight {
            guard let t = tensors[name] else {
                throw fail(name, "tensor \(name) is missing (tensors: \(order.joined(separator: ", ")))")
            }
            return t
        }
        func shapeText(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

        // What the weights say about the options (the converter's weight_facts).
        var facts: [String: OptionValue] = [:]
        let hasPlain = tensors["img_enc.fc.weight"] != nil
        let hasWN = tensors["img_enc.fc.weight_v"] != nil || tensors["img_enc.fc.weight_g"] != nil
        if hasPlain && hasWN { throw fail("img_enc", "img_enc has both fc.weight and fc.weight_g/fc.weight_v") }
        let fcName = hasWN ? "img_enc.fc.weight_v" : "img_enc.fc.weight"
        let fc: OriginalCheckpoint.Weight
        if hasWN {
            facts["precomp_enc_type"] = .string("weight_norm")
            fc = try need("img_enc.fc.weight_v")
            let g = try need("img_enc.fc.weight_g")
            guard g.values.count == 1 else {
                throw fail("img_enc.fc.weight_g", "img_enc.fc.weight_g has shape \(shapeText(g.shape)); the original's weight_norm(dim=None) has a single scalar")
            }
            // torch 0.3 stored the norm of weight_norm(dim=None) with shape [1]; keep the scalar form.
            tensors["img_enc.fc.weight_g"] = .init(name: g.name, shape: [], values: g.values)
        } else {
            facts["precomp_enc_type"] = .string("basic")
            fc = try need("img_enc.fc.weight")
        }
        guard fc.shape.count == 2 else { throw fail(fcName, "\(fcName) has shape \(shapeText(fc.shape)), expected (embed_size, img_dim)") }
        let embed = fc.shape[0], imgDim = fc.shape[1]
        let bias = try need("img_enc.fc.bias")
        guard bias.shape == [embed] else { throw fail("img_enc.fc.bias", "img_enc.fc.bias has shape \(shapeText(bias.shape)), expected [\(embed)]") }
        facts["embed_size"] = .int(Int64(embed)); facts["img_dim"] = .int(Int64(imgDim))

        let emb = try need("txt_enc.embed.weight")
        guard emb.shape.count == 2 else { throw fail("txt_enc.embed.weight", "txt_enc.embed.weight has shape \(shapeText(emb.shape)), expected (vocab_size, word_dim)") }
        let vocabRows = emb.shape[0], wordDim = emb.shape[1]
        facts["vocab_size"] = .int(Int64(vocabRows)); facts["word_dim"] = .int(Int64(wordDim))
        let rnn = order.filter { $0.hasPrefix("txt_enc.rnn.") }
        var layers = 0
        while tensors["txt_enc.rnn.weight_ih_l\(layers)"] != nil { layers += 1 }
        guard layers > 0 else { throw fail("txt_enc.rnn.weight_ih_l0", "tensor txt_enc.rnn.weight_ih_l0 is missing (tensors: \(order.joined(separator: ", ")))") }
        let reverse = rnn.filter { $0.hasSuffix("_reverse") }.sorted()
        let bi = !reverse.isEmpty
        let dirs = bi ? 2 : 1
        var expected: [(String, [Int])] = []
        for k in 0..<layers {
            for suffix in bi ? ["", "_reverse"] : [""] {
                expected.append(("txt_enc.rnn.weight_ih_l\(k)\(suffix)", [3 * embed, k == 0 ? wordDim : embed * dirs]))
                expected.append(("txt_enc.rnn.weight_hh_l\(k)\(suffix)", [3 * embed, embed]))
                expected.append(("txt_enc.rnn.bias_ih_l\(k)\(suffix)", [3 * embed]))
                expected.append(("txt_enc.rnn.bias_hh_l\(k)\(suffix)", [3 * embed]))
            }
        }
        for (name, shape) in expected {
            let a = try need(name)
            guard a.shape == shape else {
                throw fail(name, "\(name) has shape \(shapeText(a.shape)), expected \(shapeText(shape)) (a GRU with embed_size \(embed) from \(fcName), word_dim \(wordDim), \(dirs) direction(s))")
            }
        }
        let unexpected = Set(rnn).subtracting(expected.map(\.0)).sorted()
        guard unexpected.isEmpty else {
            throw fail("txt_enc.rnn", "unexpected GRU tensors \(unexpected.joined(separator: ", ")) for a \(layers)-layer \(bi ? "bidirectional" : "unidirectional") GRU")
        }
        facts["num_layers"] = .int(Int64(layers)); facts["bi_gru"] = .bool(bi)

        // config = options + the missing ones (the converter's resolve_options).
        let options = checkpoint.options ?? []
        if checkpoint.options == nil { warnings.append("warning: \(file) has no 'opt'; every option is filled in") }
        var config = options
        var index: [String: Int] = [:]
        for (k, (key, _)) in options.enumerated() {
            guard !Self.reservedKeys.contains(key) else { throw fail("opt.\(key)", "opt has an option named '\(key)', which config.json reserves") }
            index[key] = k
        }
        func value(_ key: String) -> OptionValue? { index[key].map { config[$0].1 } }
        var filled: [String] = []
        for (key, def) in Self.trainDefaults where index[key] == nil {
            index[key] = config.count
            config.append((key, facts[key] ?? def))
            filled.append(key)
        }
        if index["vocab_size"] == nil {
            index["vocab_size"] = config.count
            config.append(("vocab_size", .int(Int64(vocabRows))))
            filled.append("vocab_size")
        }
        let optBi = value("bi_gru") ?? .bool(false)
        if Self.truthy(optBi) != bi {
            if bi {
                throw fail("opt.bi_gru", "opt.bi_gru is \(optBi.pythonRepr) but the checkpoint has reverse-direction GRU weights (\(reverse.prefix(4).joined(separator: ", ")), ...): the weights are of a bidirectional GRU")
            }
            throw fail("opt.bi_gru", "opt.bi_gru is \(optBi.pythonRepr) but the checkpoint has no reverse-direction GRU weights (txt_enc.rnn.*_reverse): the weights are of a unidirectional GRU")
        }
        let sources: [(String, String)] = [
            ("precomp_enc_type", "img_enc.fc (weight_g/weight_v means weight_norm, weight means basic)"),
            ("embed_size", "img_enc.fc.weight rows"), ("img_dim", "img_enc.fc.weight columns"),
            ("vocab_size", "txt_enc.embed.weight rows"), ("word_dim", "txt_enc.embed.weight columns"),
            ("num_layers", "the txt_enc.rnn.weight_ih_l<k> tensors"),
        ]
        for (key, source) in sources {
            let v = value(key) ?? .none
            let fact = facts[key] ?? .none
            var isBool = false
            if case .bool = v { isBool = true }
            if isBool || !v.pythonEquals(fact) {
                throw fail("opt.\(key)", "opt.\(key) is \(v.pythonRepr) but the weights say \(fact.pythonRepr) (from \(source))")
            }
        }
        for (key, allowed) in Self.knownValues {
            let v = value(key) ?? .none
            if case let .string(s) = v, allowed.contains(s) { continue }
            warnings.append("warning: \(file): opt.\(key) = \(v.pythonRepr) is not one of \(allowed.joined(separator: ", "))")
        }
        config.append(("format", .string(Self.format)))
        config.append(("format_version", .int(Self.formatVersion)))
        config.append(("filled_defaults", .list(filled.map { .string($0) })))

        self.config = config
        self.filledDefaults = filled
        self.weights = order.compactMap { tensors[$0] }
        self.vocabSize = vocabRows
        self.warnings = warnings
        let source = sourceName ?? (file as NSString).lastPathComponent
        self.metadata = [("format", Self.format), ("source", source)] + checkpoint.counters.map { ($0.0, $0.1.pythonStr) }
    }

    /// Python truthiness of an option (the converter's `bool(opt.bi_gru)`).
    static func truthy(_ v: OptionValue) -> Bool {
        switch v {
        case .none: return false
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .float(d): return d != 0
        case let .string(s): return !s.isEmpty
        case let .list(l): return !l.isEmpty
        case let .dict(d): return !d.isEmpty
        }
    }

    /// `config.json`: `json.dumps(config, indent=2, sort_keys=True) + "\n"`.
    public var configJSON: [UInt8] { Array((PythonJSON.pretty(.dict(config)) + "\n").utf8) }

    /// The config as the engine reads it.
    public func modelConfig(file: String) throws -> ModelConfig {
        try ModelConfig(json: Dictionary(config.map { ($0.0, $0.1.json) }, uniquingKeysWith: { _, b in b }), file: file)
    }

    /// `model.safetensors`: u64 header length, JSON header (sorted, space-padded to 8), F32 data in name order.
    public var safetensors: [UInt8] {
        let names = weights.map(\.name).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) { $0.value < $1.value } }
        let byName = Dictionary(weights.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var header: [(String, OptionValue)] = [("__metadata__", .dict(metadata.map { ($0.0, .string($0.1)) }))]
        var offset: Int64 = 0
        for name in names {
            guard let w = byName[name] else { continue }
            let n = Int64(w.values.count * 4)
            header.append((name, .dict([("dtype", .string("F32")), ("shape", .list(w.shape.map { .int(Int64($0)) })),
                                        ("data_offsets", .list([.int(offset), .int(offset + n)]))])))
            offset += n
        }
        var text = Array(PythonJSON.compact(.dict(header)).utf8)
        while text.count % 8 != 0 { text.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + text.count + Int(offset))
        withUnsafeBytes(of: UInt64(text.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: text)
        for name in names {
            guard let w = byName[name] else { continue }
            for v in w.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    /// The weights as the engine's safetensors file (in memory).
    public func safetensorsFile(path: String) -> SafetensorsFile {
        var f = SafetensorsFile(path: path, metadata: Dictionary(metadata, uniquingKeysWith: { _, b in b }))
        for w in weights {
            f.entries[w.name] = SafetensorsEntry(dtype: .F32, shape: w.shape, bytes: w.values.withUnsafeBytes { Array($0) })
        }
        return f
    }
}
