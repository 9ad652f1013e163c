import Foundation
import SCANSearch
import SCANSynthetic
import SCANTraining
import XCTest

/// A tiny demo world, a model trained on it for one short epoch and an index of its test split with
/// the pictures of its test images: enough to exercise every route (not to judge ranking quality).
/// Built once per test process.
final class ServeWorld: @unchecked Sendable {
    let root: String
    let world: String
    let model: String
    let index: String
    let pictures: String

    nonisolated(unsafe) static var cleanupPath: String?

    static let shared: ServeWorld = {
        do { return try ServeWorld() } catch { fatalError("serve test world: \(error)") }
    }()

    private init() throws {
        setenv("SCAN_QUIET", "1", 1)
        root = NSTemporaryDirectory() + "scan-serve-world-\(getpid())-\(UUID().uuidString.prefix(8))"
        ServeWorld.cleanupPath = root
        atexit { if let r = ServeWorld.cleanupPath { try? FileManager.default.removeItem(atPath: r) } }
        world = root + "/world"
        let demo = try DemoWorld(options: DemoWorldOptions(seed: 5, trainImages: 60, devImages: 10, testImages: 40, regions: 8, imgDim: 32,
                                                           vocabularyThreshold: 1))
        try demo.write(to: world, progress: false)
        pictures = try demo.writePictures(to: world)
        var o = TrainingOptions()
        o.config.embedSize = 16; o.config.wordDim = 8; o.config.imgDim = 32; o.config.biGRU = true
        o.config.numEpochs = 1; o.config.batchSize = 30; o.config.learningRate = 0.002
        o.dataPath = world; o.dataName = ""; o.vocabPath = world + "/vocab.json"
        o.loggerName = root + "/run/log"; o.modelName = root + "/run/checkpoint"; o.valStep = 0; o.logStep = 0; o.quiet = true
        _ = try Trainer(options: o).run()
        model = root + "/run/checkpoint/model_best"
        var fitter = PrefilterFitter()
        fitter.steps = 20; fitter.batchSize = 16; fitter.dim = 8
        _ = try fitter.fit(modelDirectory: model, folder: world, split: "train", quiet: true)
        index = root + "/index"
        var b = BuildOptions()
        b.showProgress = false
        _ = try IndexBuilder.build(index: index, modelDirectory: model, source: try PrecompFeatureSource(dataDirectory: world, split: "test"), options: b)
    }

    /// A private copy of the index, for tests that modify it.
    func freshIndex(_ name: String) throws -> String {
        let dir = root + "/copies/\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/copies", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: index, toPath: dir)
        try? FileManager.default.removeItem(atPath: dir + "/writer.lock")
        return dir
    }

    /// The first caption of each test image, by row.
    func testCaptions() throws -> [String] {
        let lines = try String(contentsOfFile: world + "/test_caps.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        return stride(from: 0, to: lines.count, by: 5).map { lines[$0] }
    }
}
