/// Problems that stop training, each with what to do about it.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFiniteLoss(iteration: Int, epoch: Int, lastCheckpoint: String?)
    case vocabularyMismatch(vocabulary: String, captions: String, unknownFraction: Double)
    case resumeMismatch(checkpoint: String, fields: [String])
    case missingCheckpoint(path: String)
    case badCheckpoint(path: String, reason: String)
    /// `scan-prefilter fit` would replace the prefilter indexes were built with.
    case wouldReplacePrefilter(path: String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(it, epoch, last):
            return "loss became NaN or infinite at iteration \(it) (epoch \(epoch)); stopped. "
                + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was written yet.")
        case let .vocabularyMismatch(v, c, f):
            return "\(v) does not match \(c): \(String(format: "%.0f", f * 100))% of the caption tokens are unknown (build the vocabulary with scan-vocab)"
        case let .resumeMismatch(cp, fields):
            return "\(cp) was trained with another configuration: \(fields.joined(separator: "; "))"
        case let .missingCheckpoint(p):
            return "\(p): no checkpoint to resume from (expected a checkpoint directory with trainer_state.json, "
                + "a --model_name folder with latest.json, or a run folder with checkpoint/latest.json)"
        case let .badCheckpoint(p, r): return "\(p): \(r)"
        case let .wouldReplacePrefilter(p):
            return "\(p) exists: kept it. Indexes built with this model directory use that prefilter and would refuse the "
                + "directory after a refit (scan-index add --model, build into them). Give --force to refit and replace it "
                + "(then build new indexes with it), or copy the model directory and fit the copy."
        }
    }
}
