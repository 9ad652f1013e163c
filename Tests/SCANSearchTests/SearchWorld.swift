import Foundation
import SCANSearch
import SCANSynthetic
import SCANTraining
import TestSupport
import XCTest

/// A tiny trained SCAN model on a generated collection with known matches, shared by the search
/// tests of one test process (trained once, a few seconds): `modelPlain` has no prefilter file (plain
/// mean), `modelFitted` the same weights plus a fitted `prefilter.safetensors`. Indexes of the
/// test split are built on demand and cached.
final class SearchWorld: @unchecked Sendable {
    let root: String
    let data: String
    let modelPlain: String
    let modelFitted: String
    let trainingSeconds: Double
    private var cache: [String: String] = [:]
    private let lock = NSLock()

    nonisolated(unsafe) static var cleanupPath: String?

    static let shared: SearchWorld = {
        do { return try SearchWorld() } catch { fatalError("search test world: \(error)") }
    }()

    private init() throws {
        setenv("SCAN_QUIET", "1", 1)
        root = NSTemporaryDirectory() + "scan-search-world-\(getpid())-\(UUID().uuidString.prefix(8))"
        SearchWorld.cleanupPath = root
        atexit { if let r = SearchWorld.cleanupPath { try? FileManager.default.removeItem(atPath: r) } }
        data = root + "/data"
        var world = GeneratedCollection()
        world.nouns = Array(GeneratedCollection.defaultNouns.prefix(16))
        world.imgDim = 16
        world.regions = 4
        world.splits = [("train", 200), ("dev", 40), ("test", 400)]
        try world.write(to: data)
        let t0 = ProgressReporter.now()
        var o = TrainingOptions()
        o.config.embedSize = 16; o.config.wordDim = 12; o.config.imgDim = 16; o.config.biGRU = true
        o.config.maxViolation = false; o.config.numEpochs = 3; o.config.batchSize = 32; o.config.learningRate = 0.01
        o.dataPath = data; o.dataName = ""; o.vocabPath = data + "/vocab.json"
        o.loggerName = root + "/run/log"; o.modelName = root + "/run/checkpoint"
        o.logStep = 0; o.valStep = 0; o.seed = 3; o.quiet = true
        _ = try Trainer(options: o).run()
        trainingSeconds = ProgressReporter.now() - t0
        let best = root + "/run/checkpoint/model_best"
        modelPlain = root + "/model-plain"
        modelFitted = root + "/model-fitted"
        for dir in [modelPlain, modelFitted] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in IndexModel.requiredFiles { try FileManager.default.copyItem(atPath: best + "/" + f, toPath: dir + "/" + f) }
        }
        var fitter = PrefilterFitter()
        fitter.dim = 16; fitter.steps = 200; fitter.batchSize = 64; fitter.learningRate = 1e-2; fitter.temperature = 0.1
        _ = try fitter.fit(modelDirectory: modelFitted, folder: data, split: "train", quiet: true)
    }

    var testImages: String { data + "/test_ims.npy" }
    var testCaptions: String { data + "/test_caps.txt" }

    /// The test split indexed with `model` (built once per name; do not modify it).
    func index(_ name: String, model: String, precision: Precision = .float16) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let p = cache[name] { return p }
        let path = root + "/indexes/" + name
        var o = BuildOptions()
        o.precision = precision
        o.showProgress = false
        o.batchSize = 64
        let src = try PrecompFeatureSource(imagesPath: testImages, captionsPath: testCaptions)
        _ = try IndexBuilder.build(index: path, modelDirectory: model, source: src, options: o)
        cache[name] = path
        return path
    }

    /// A private copy of the test-split index built with `model`, for tests that modify it.
    func freshIndex(_ test: XCTestCase, model: String, precision: Precision = .float16) throws -> String {
        let shared = try index("shared-\((model as NSString).lastPathComponent)-\(precision.rawValue)", model: model, precision: precision)
        let dir = makeTempDir(test, "scan-search-index") + "/index"
        try FileManager.default.copyItem(atPath: shared, toPath: dir)
        try? FileManager.default.removeItem(atPath: dir + "/writer.lock")
        return dir
    }

    /// (caption, image id) pairs of the test split: the first `perImage` captions of each image.
    func queries(perImage: Int = 1) throws -> [(caption: String, imageID: String)] {
        try GeneratedCollection.queries(folder: data, split: "test").enumerated().filter { $0.offset % 5 < perImage }.map(\.element)
    }
}
