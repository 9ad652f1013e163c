import ArgumentParser
import Foundation
import SCANBenchmarks
import SCANSearch

/// `scan-bench pq-encode`: product-quantisation encoding throughput on paper-size regions, every
/// kernel path against the first kernel in one run.
struct PQEncodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pq-encode",
        abstract: "Product-quantisation encode (nearest centroid per sub-space) on 36 x 1024 regions: regions/s and GFLOP/s per kernel path and over the cores, against the first kernel.")

    @Option(help: "Images encoded (36 regions each).") var images = 200
    @Option(help: "Product-quantised precision (pq4, pq8, pq16, pq32).") var precision = "pq4"
    @Option(help: "Timings per path (the median is printed).") var repeats = 3

    func validate() throws {
        guard let p = Precision(rawValue: precision), p.isProductQuantized else { throw ValidationError("--precision must be pq4, pq8, pq16 or pq32, found '\(precision)'") }
        guard images >= 1 else { throw ValidationError("--images must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        var b = PQEncodeBenchmark()
        b.images = images
        b.repeats = repeats
        b.precision = Precision(rawValue: precision) ?? .pq4
        try b.run()
    }
}
