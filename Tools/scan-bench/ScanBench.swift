import ArgumentParser
import SCANCommandLine

/// Benchmarks that print numbers (never asserted in tests). Each prints the BLAS kernel in use and
/// this machine's sgemm rate measured in the same run (SCANBenchmarks' Yardstick), as the yardstick for the rest.
@main
struct ScanBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-bench",
        abstract: "Benchmarks: sgemm yardstick, exact similarity matrix, training step, index, codecs, first stage, TSV conversion.",
        subcommands: [Similarity.self, TrainBench.self, IndexBench.self, Retention.self, CodecBench.self, FirstStageBench.self, PackedGemmBench.self, CodecThroughputBench.self, PQEncodeBench.self, ConvertBench.self])

    static func main() { runWithFastBLAS() }
}
