import ArgumentParser
import Foundation
import SCANBenchmarks

struct ConvertBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "scan-data convert on a generated paper-size TSV: throughput and peak resident memory.")

    @Option(help: "Images in the generated TSV (36 x 2048 each, ~400 KB per line).") var images = 10_000
    @Option(help: "Working directory (default: a temporary one, removed afterwards).") var directory: String?

    func run() throws {
        var b = ConvertBenchmark()
        b.images = images
        b.directory = directory
        try b.run()
    }
}
