import ArgumentParser
import Foundation
import SCANBenchmarks
import SCANSearch

/// `scan-bench first-stage`: the compact first stage against the float32 scan and FAISS on the same vectors.
struct FirstStageBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "first-stage",
        abstract: "Compact 4-bit first stage vs float32 scan vs FAISS (SQ4, PQ, PQ fast-scan) on generated prefilter vectors: bytes/image, recall of the float32 top K, latency.")

    @Option(help: "Sizes, comma separated.") var sizes = "100000"
    @Option(help: "Prefilter dimension P.") var dim = 256
    @Option(help: "Queries.") var queries = 200
    @Option(help: "K values, comma separated.") var ks = "100,1000"
    @Option(help: "Working directory (default: a temporary one, removed afterwards).") var directory: String?
    @Flag(help: "Skip FAISS.") var noFaiss = false
    @Option(help: "Threads per query, ours and FAISS's (default: the cores).") var threads: Int?
    @Option(help: "Shortlist factors of the compact first stage, comma separated.") var shortlistFactors = "1.25,2,4"
    @Option(help: "FAISS index_factory strings, comma separated (default: SQ4, PQ{P/2}, PQ{P}x4fs).") var faissIndexes: String?
    @Option(help: "Measure on this existing index's own prefilter vectors, records and blocks instead of generated ones (--sizes and --dim are then the index's).") var index: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        let factors = shortlistFactors.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        if factors.isEmpty || factors.contains(where: { $0 == nil || $0! < 1 }) {
            throw ValidationError("--shortlist-factors must be numbers >= 1, got '\(shortlistFactors)'")
        }
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        var o = FirstStageBenchmark.Options()
        o.sizes = sizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        o.dim = dim
        o.queries = queries
        o.ks = ks.split(separator: ",").compactMap { Int($0) }
        o.directory = directory
        if !noFaiss { o.faissScript = Self.faissScript() }
        if let threads { o.threads = threads }
        o.shortlistFactors = shortlistFactors.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        o.index = index
        o.faissIndexes = faissIndexes?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        try FirstStageBenchmark.run(o)
    }

    /// Tools/faiss_first_stage.py from the working directory or next to the build directory.
    static func faissScript() -> String? {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [FileManager.default.currentDirectoryPath + "/Tools/faiss_first_stage.py",
                          exe.deletingLastPathComponent().appendingPathComponent("../../Tools/faiss_first_stage.py").standardized.path]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
