import Foundation
import SCANSearch
import SCANSynthetic
import SCANTraining

/// Recall retention of two-stage search against exact search, for several K, on a generated
/// collection with known matches and a small SCAN model trained on it, with the plain mean-pooled and
/// the fitted prefilter.
public struct RetentionBenchmark {
    /// Working directory (default: a temporary one, removed afterwards unless `keep`).
    public var directory: String?
    public var keep = false
    /// Images of the indexed collection (distinct sets of 4 of 40 nouns).
    public var retentionImages = 2000
    public var trainImages = 2000
    public var epochs = 12
    public var ks = "10,50,100,200,500,1000"
    /// Feature noise amplitude of the generated collection.
    public var noise: Float = 0.6

    public init() {}

    /// Trains a small SCAN model on a generated collection, fits a prefilter, indexes the test split
    /// twice (plain mean and fitted prefilter) and runs the retention study on its captions.
    public func run(out: (String) -> Void = { print($0) }) throws {
        let fm = FileManager.default
        let root = directory.map { $0 + "/retention" } ?? (NSTemporaryDirectory() + "scan-retention-bench-\(getpid())")
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if !keep { try? fm.removeItem(atPath: root) } }
        var world = GeneratedCollection()
        world.splits = [("train", trainImages), ("dev", 200), ("test", retentionImages)]
        // Harder than the tests' world: forty nouns, four objects per image, captions naming three of them, more noise.
        world.nouns = GeneratedCollection.moreNouns
        world.objectsPerImage = 4
        world.mentioned = 3...3
        world.noise = noise
        try world.write(to: root + "/data")
        var o = TrainingOptions()
        o.config.embedSize = 64; o.config.wordDim = 32; o.config.imgDim = world.imgDim; o.config.biGRU = true
        o.config.maxViolation = false; o.config.numEpochs = epochs; o.config.batchSize = 64; o.config.learningRate = 0.005
        o.config.lrUpdate = max(1, epochs * 2 / 3)
        o.dataPath = root + "/data"; o.dataName = ""; o.vocabPath = root + "/data/vocab.json"
        o.loggerName = root + "/run/log"; o.modelName = root + "/run/checkpoint"
        o.logStep = 0; o.valStep = 0; o.seed = 3; o.quiet = true
        let t0 = Yardstick.now()
        let summary = try Trainer(options: o).run()
        let trainSeconds = Yardstick.now() - t0
        let best = root + "/run/checkpoint/model_best"
        let plain = root + "/model-plain", fitted = root + "/model-fitted"
        for d in [plain, fitted] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
            for f in IndexModel.requiredFiles { try fm.copyItem(atPath: best + "/" + f, toPath: d + "/" + f) }
        }
        var fitter = PrefilterFitter()
        fitter.dim = 64; fitter.steps = 600; fitter.batchSize = 256
        let t1 = Yardstick.now()
        _ = try fitter.fit(modelDirectory: fitted, folder: root + "/data", split: "train", quiet: true)
        let fitSeconds = Yardstick.now() - t1
        out("")
        out(String(format: "retention study: generated collection (%d nouns, %d objects per image, captions naming 3 of them, %d regions x %d dims, noise %.2f), SCAN embed %d, bi-GRU, " +
                     "trained %d epochs on %d images in %.0f s (best dev rsum %.1f); prefilter fitted (P = %d, %d steps) in %.1f s",
                     world.nouns.count, world.objectsPerImage, world.regions, world.imgDim, Double(world.noise), o.config.embedSize, epochs, trainImages, trainSeconds, summary.bestRsum,
                     fitter.dim, fitter.steps, fitSeconds))
        let queries = try GeneratedCollection.queries(folder: root + "/data", split: "test")
        let kValues = ks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        for (name, model) in [("plain", plain), ("fitted", fitted)] {
            var b = BuildOptions()
            b.showProgress = false
            let index = root + "/index-" + name
            _ = try IndexBuilder.build(index: index, modelDirectory: model,
                                       source: try PrecompFeatureSource(imagesPath: root + "/data/test_ims.npy", captionsPath: root + "/data/test_caps.txt"),
                                       options: b)
            let report = try RetentionStudy.run(index: index, queries: queries, ks: kValues)
            out(report.table)
        }
    }
}
