import Foundation
import SCANModel

/// The original's step schedule: lr = learning_rate * 0.1^floor(epoch / lr_update).
public enum LearningRateSchedule {
    public static func learningRate(base: Double, epoch: Int, lrUpdate: Int) -> Double {
        guard lrUpdate > 0 else { return base }
        return base * pow(0.1, Double(epoch / lrUpdate))
    }

    public static func learningRate(config: ModelConfig, epoch: Int) -> Double {
        learningRate(base: config.learningRate, epoch: epoch, lrUpdate: config.lrUpdate)
    }
}
