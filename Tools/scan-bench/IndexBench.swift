import ArgumentParser
import Foundation
import SCANBenchmarks

/// `scan-bench index`: build throughput, bytes per image, peak memory and query latency of the search
/// index at paper sizes (IndexBenchmark), then the recall retention of two-stage search against exact
/// search on a generated collection with known matches and a small trained model (RetentionStudy).
struct IndexBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index build and query latency at 10k/100k images (paper sizes), and recall retention vs K for plain and fitted prefilters.")

    @Option(help: "Index sizes, comma separated, ascending.") var sizes = "10000,100000"
    @Option(help: "Timed queries per mode.") var queries = 40
    @Option(help: "Timed exact queries.") var exactQueries = 3
    @Option(help: "Above this size exact search is timed on a slice of this many images and extrapolated.") var exactFullUpTo = 10_000
    @Option(help: "Images of the float32/float16/int8 deviation indexes (0: skip).") var deviationImages = 1000
    @Option(help: "Working directory (default: a temporary one, removed afterwards).") var directory: String?
    @Flag(help: "Keep the working directory.") var keep = false
    @Flag(help: "Generate the images already encoded (unit region vectors) instead of running the image encoder: for a million images.")
    var preEncoded = false
    @Flag(help: "Skip FAISS's first-stage figures (Tools/faiss_first_stage.py).") var noFaiss = false
    @Option(help: "FAISS index_factory strings, comma separated (default: SQ4 and PQ{P}x4fs, the same bytes per image as ours).") var faissIndexes: String?
    @Flag(help: "Skip the latency part.") var retentionOnly = false
    @Flag(help: "Skip the retention part.") var noRetention = false
    @Option(help: "Retention: images of the indexed collection (distinct sets of 4 of 24 nouns).") var retentionImages = 2000
    @Option(help: "Retention: training images.") var trainImages = 2000
    @Option(help: "Retention: training epochs.") var epochs = 12
    @Option(help: "Retention: K values, comma separated.") var ks = "10,50,100,200,500,1000"
    @Option(help: "Retention: feature noise amplitude of the generated collection.") var noise: Float = 0.6

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        if !retentionOnly {
            var o = IndexBenchmark.Options()
            o.sizes = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            o.queries = queries
            o.exactQueries = exactQueries
            o.exactFullUpTo = exactFullUpTo
            o.deviationImages = deviationImages
            o.directory = directory.map { $0 + "/latency" }
            o.keep = keep
            o.preEncoded = preEncoded
            if !noFaiss { o.faissScript = FirstStageBench.faissScript() }
            o.faissIndexes = faissIndexes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            try IndexBenchmark.run(o)
        }
        if !noRetention {
            var r = RetentionBenchmark()
            r.directory = directory.map { $0 + "/retention" }
            r.keep = keep
            r.retentionImages = retentionImages
            r.trainImages = trainImages
            r.epochs = epochs
            r.ks = ks
            r.noise = noise
            try r.run()
        }
    }
}
