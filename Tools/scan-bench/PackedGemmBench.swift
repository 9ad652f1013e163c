import ArgumentParser
import Foundation
import SCANBenchmarks

struct PackedGemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "packed-gemm",
        abstract: "The GRU's W_hh products over a batch's time steps, single-threaded: OpenBLAS per step vs pack once + scan_gemm_packed_f32.")

    @Option(help: "Repetitions (medians are printed).") var repeats = 5

    func run() throws {
        var b = PackedGemmBenchmark()
        b.repeats = repeats
        b.run()
    }
}
