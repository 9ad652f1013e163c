/// The original's option values, spelled as its command line spells them.

/// Normalisation of the raw attention logits along the query axis (DESIGN §3).
public enum RawFeatureNorm: String, Codable, CaseIterable, Sendable {
    case clippedL2norm = "clipped_l2norm"
    case l2norm
    case clippedL1norm = "clipped_l1norm"
    case l1norm
    case clipped
    case noNorm = "no_norm"
    case softmax
}

/// Aggregation of per-word (t2i) or per-region (i2t) similarities into one score.
public enum AggFunc: String, Codable, CaseIterable, Sendable {
    case logSumExp = "LogSumExp"
    case mean = "Mean"
    case max = "Max"
    case sum = "Sum"
}

/// Direction of the stacked cross attention.
public enum CrossAttn: String, Codable, CaseIterable, Sendable {
    /// Words attend over regions.
    case t2i
    /// Regions attend over words.
    case i2t
}

/// The image encoder's linear layer: plain or weight-normalised (W = g V / ||V||_F).
public enum PrecompEncType: String, Codable, CaseIterable, Sendable {
    case basic
    case weightNorm = "weight_norm"
}
