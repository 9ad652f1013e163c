import SCANModel

/// Adam's moments and step count, serialisable to safetensors so that a checkpoint can resume.
public struct AdamState: Sendable {
    /// Number of updates done (the next one is `step + 1`).
    public var step: Int
    /// First moment (exp_avg), same layout as the parameters.
    public var m: ParameterSet<Float>
    /// Second moment (exp_avg_sq).
    public var v: ParameterSet<Float>

    public init(layout: ParameterLayout) {
        step = 0
        m = ParameterSet(zeros: layout)
        v = ParameterSet(zeros: layout)
    }

    static let stepKey = "adam.step"
    static let mPrefix = "adam.exp_avg."
    static let vPrefix = "adam.exp_avg_sq."

    /// Tensors `adam.step` (int64 scalar), `adam.exp_avg.<param>` and `adam.exp_avg_sq.<param>`.
    public var safetensorsEntries: [String: SafetensorsEntry] {
        var out: [String: SafetensorsEntry] = [Self.stepKey: .int64([Int64(step)], shape: [])]
        for (name, t) in m.tensors() { out[Self.mPrefix + name] = .float32(t) }
        for (name, t) in v.tensors() { out[Self.vPrefix + name] = .float32(t) }
        return out
    }

    public func write(to path: String) throws {
        try SafetensorsFile(metadata: ["format": "scan-swift adam state", "betas": "0.9,0.999", "eps": "1e-08"],
                            entries: safetensorsEntries).write(to: path)
    }

    /// Reads the state written by `safetensorsEntries` for parameters of `layout`.
    public init(safetensors f: SafetensorsFile, layout: ParameterLayout) throws {
        let steps = try f.ints(Self.stepKey)
        guard steps.count == 1, steps[0] >= 0 else {
            throw FormatError.badHeader(file: f.path, reason: "\(Self.stepKey) must be one non-negative integer")
        }
        step = steps[0]
        var mt: [String: Tensor] = [:], vt: [String: Tensor] = [:]
        for name in layout.names {
            mt[name] = try f.tensor(Self.mPrefix + name)
            vt[name] = try f.tensor(Self.vPrefix + name)
        }
        m = try ParameterSet(layout: layout, tensors: mt, file: f.path)
        v = try ParameterSet(layout: layout, tensors: vt, file: f.path)
    }

    public init(path: String, layout: ParameterLayout) throws {
        try self.init(safetensors: SafetensorsFile(path: path), layout: layout)
    }
}
