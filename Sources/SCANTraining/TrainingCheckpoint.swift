import Foundation
import SCANModel

/// What a checkpoint directory holds besides the model: where the run stands.
public struct TrainerState: Codable, Equatable, Sendable {
    /// The next epoch to run.
    public var epoch: Int
    /// Training iterations done so far (the original's Eiters).
    public var iterations: Int
    /// Batches of `epoch` already done (0 at an epoch boundary): the sampler's position.
    public var batchInEpoch: Int
    public var bestRsum: Double
    public var seed: UInt64
    public var lastRsum: Double?

    enum CodingKeys: String, CodingKey {
        case epoch, iterations = "Eiters", batchInEpoch = "batch_in_epoch", bestRsum = "best_rsum", seed, lastRsum = "last_rsum"
    }
}

/// A checkpoint: a model directory plus `optimizer.safetensors` (Adam's moments and step) and
/// `trainer_state.json`. Written to a temporary sibling and renamed, so a kill never leaves half of one.
public enum TrainingCheckpoint {
    public static func save(to path: String, config: ModelConfig, parameters: ParameterSet<Float>, vocabulary: Vocabulary,
                            optimizer: AdamState, state: TrainerState) throws {
        let tmp = path + ".partial"
        try ModelDirectory.save(config: config, parameters: parameters.tensors(), vocabulary: vocabulary, to: tmp,
                                metadata: ["epoch": "\(state.epoch)", "Eiters": "\(state.iterations)", "best_rsum": "\(state.bestRsum)"])
        try optimizer.write(to: tmp + "/optimizer.safetensors")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(state).write(to: URL(fileURLWithPath: tmp + "/trainer_state.json"))
        let fm = FileManager.default
        if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
        try fm.moveItem(atPath: tmp, toPath: path)
    }

    public struct Loaded {
        public var config: ModelConfig
        public var parameters: ParameterSet<Float>
        public var optimizer: AdamState
        public var state: TrainerState
    }

    /// The checkpoint directory `path` names: itself, the one its `latest.json` names (a --model_name
    /// folder), or the one `checkpoint/latest.json` names (a run folder such as runs/f30k_scan).
    static func checkpointDirectory(_ path: String) -> String {
        for folder in [path, (path as NSString).appendingPathComponent("checkpoint")] {
            let latest = (folder as NSString).appendingPathComponent("latest.json")
            if let data = FileManager.default.contents(atPath: latest),
               let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let name = obj["checkpoint"] as? String {
                return (folder as NSString).appendingPathComponent(name)
            }
            if FileManager.default.fileExists(atPath: folder + "/trainer_state.json") { return folder }
        }
        return path
    }

    /// Loads `path`: a checkpoint directory, a --model_name folder whose `latest.json` names one, or a run
    /// folder holding `checkpoint/latest.json`.
    public static func load(_ path: String) throws -> Loaded {
        let dir = checkpointDirectory(path)
        let statePath = dir + "/trainer_state.json"
        guard FileManager.default.fileExists(atPath: statePath) else { throw TrainingError.missingCheckpoint(path: path) }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: URL(fileURLWithPath: statePath))) } catch {
            throw TrainingError.badCheckpoint(path: statePath, reason: "\(error)")
        }
        let config = try ModelConfig.load(path: dir + "/config.json")
        let layout = ParameterLayout(config: config)
        let weights = try SafetensorsFile(path: dir + "/model.safetensors")
        var tensors: [String: Tensor] = [:]
        for name in layout.names { tensors[name] = try weights.tensor(name) }
        let parameters = try ParameterSet<Float>(layout: layout, tensors: tensors, file: weights.path)
        let optimizer = try AdamState(path: dir + "/optimizer.safetensors", layout: layout)
        return Loaded(config: config, parameters: parameters, optimizer: optimizer, state: state)
    }
}
