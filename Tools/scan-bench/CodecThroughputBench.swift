import ArgumentParser
import Foundation
import SCANBenchmarks

struct CodecThroughputBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec-throughput",
        abstract: "Record codec (float16, int8, float32) and index storage throughput on paper-size regions (36 x 1024): checksum, encode/decode per precision, append, reads, verify.")

    @Option(help: "Images encoded and stored.") var images = 400

    func run() throws {
        var b = CodecBenchmark()
        b.images = images
        try b.run()
    }
}
