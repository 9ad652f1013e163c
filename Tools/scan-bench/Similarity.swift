import ArgumentParser
import Foundation
import SCANBenchmarks

struct Similarity: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exact similarity matrix at Flickr30K shape (1000 x 36 regions x 1024 vs 5000 captions).")

    @Option(help: "Number of images.") var images = 1000
    @Option(help: "Number of captions.") var captions = 5000
    @Option(help: "Regions per image.") var regions = 36
    @Option(help: "Embedding dimension.") var dim = 1024
    @Option(help: "Directions to measure: t2i, i2t or both.") var direction = "both"
    @Option(help: "Aggregation (LogSumExp, Mean, Max, Sum).") var aggFunc = "LogSumExp"
    @Option(help: "Also time COCO 5K (5000 images x 25000 captions) on a slice of this many images and extrapolate (0: skip).")
    var cocoSliceImages = 0

    func run() throws {
        var b = SimilarityBenchmark()
        b.images = images; b.captions = captions; b.regions = regions; b.dim = dim
        b.direction = direction; b.aggFunc = aggFunc; b.cocoSliceImages = cocoSliceImages
        b.run()
    }
}
