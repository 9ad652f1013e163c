import Foundation
import SCANSearch
import SCANSynthetic
import SCANTraining
import TestSupport
import XCTest

/// The demo's whole chain at a tiny size: the synthetic world generator, scan-train's loop for one
/// short epoch, the prefilter fit, an index of the test split, and a search answered from it.
final class DemoChainTests: XCTestCase {
    func testGeneratorTrainingIndexAndSearchWorkTogether() throws {
        setenv("SCAN_QUIET", "1", 1)
        let tmp = NSTemporaryDirectory() + "scan-demo-chain-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let world = tmp + "/world"
        try DemoWorld(options: DemoWorldOptions(seed: 4, trainImages: 40, devImages: 10, testImages: 20, regions: 8, imgDim: 32,
                                                vocabularyThreshold: 1)).write(to: world, progress: false)

        var o = TrainingOptions()
        o.config.embedSize = 16; o.config.wordDim = 8; o.config.imgDim = 32; o.config.biGRU = true
        o.config.numEpochs = 1; o.config.batchSize = 50; o.config.learningRate = 0.002
        o.dataPath = world; o.dataName = ""; o.vocabPath = world + "/vocab.json"
        o.loggerName = tmp + "/run/log"; o.modelName = tmp + "/run/checkpoint"; o.valStep = 0; o.quiet = true
        let summary = try Trainer(options: o).run()
        XCTAssertEqual(summary.iterations, 4)
        let model = tmp + "/run/checkpoint/model_best"

        var fitter = PrefilterFitter()
        fitter.steps = 20; fitter.batchSize = 16; fitter.dim = 8
        _ = try fitter.fit(modelDirectory: model, folder: world, split: "train", quiet: true)

        let source = try FeatureSources.open(path: world + "/test_ims.npy").source
        let report = try IndexBuilder.build(index: tmp + "/index", modelDirectory: model, source: source)
        XCTAssertEqual(report.appended, 20)
        let searcher = try Searcher(index: tmp + "/index")
        let query = try String(contentsOfFile: world + "/test_caps.txt", encoding: .utf8).split(separator: "\n")[0]
        let hits = try searcher.search(query: String(query), top: 5, candidates: 10)
        let exact = try searcher.search(query: String(query), top: 20, exact: true)
        XCTAssertEqual(hits.count, 5)
        XCTAssertEqual(hits[0].captions.count, 5)
        // The re-ranked best hit has the score exact mode gives the same image.
        let same = try XCTUnwrap(exact.first(where: { $0.id == hits[0].id }), "exact mode ranks every image")
        XCTAssertEqual(same.score, hits[0].score, accuracy: 1e-6)
    }
}
