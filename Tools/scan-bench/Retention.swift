import ArgumentParser
import Foundation
import SCANBenchmarks
import SCANSearch

struct Retention: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "t2i recall of an existing index: exact SCAN, the prefilter alone, and prefilter + re-rank for several K. "
            + "Queries are a captions file whose caption i belongs to the image with id i / 5 (a precomp split indexed by row).")

    @Option(help: "Index directory.") var index: String
    @Option(help: "Captions, 5 per image, in the index's row order.") var captions: String
    @Option(help: "Candidate counts K, comma separated.") var ks = "10,20,50,100,200"

    func run() throws {
        let lines = try CaptionFile.read(captions)
        let queries = lines.enumerated().map { (caption: $0.element, imageID: String($0.offset / 5)) }
        let report = try RetentionStudy.run(index: index, queries: queries, ks: ks.split(separator: ",").compactMap { Int($0) })
        print(report.table)
    }
}
