import ArgumentParser
import Foundation
import SCANBenchmarks
import SCANSearch

/// `scan-bench codec`: bytes per image against retention for each region storage setting
/// (CodecStudy) on a precomp split indexed with a trained model, e.g. the demo world's test split.
struct CodecBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Region codecs (float16, int8, float32, pq4/pq8/pq16/pq32): bytes per image, two-stage t2i R@1/5/10 and top-10 overlap vs --exact on float16.")

    @Option(help: "Model directory (with its fitted prefilter).") var model: String
    @Option(help: "Precomp features {split}_ims.npy.") var features: String
    @Option(help: "Captions of the split (a fixed number per image, in row order).") var captions: String
    @Option(help: "Settings, comma separated (float16 is always measured: the yardstick).") var precisions = "int8,pq4,pq8,pq16,pq32"
    @Option(help: "Candidates re-ranked by SCAN.") var candidates = 100
    @Option(help: "Every n-th caption is a query (exact search over a large collection is costly).") var queryEvery = 1
    @Flag(help: "Measure complete indexes left in --directory by an earlier run instead of rebuilding them.") var reuse = false
    @Option(help: "Working directory (indexes are built under it; default: a temporary one, removed afterwards).") var directory: String?

    func validate() throws {
        for p in precisions.split(separator: ",") where Precision(rawValue: String(p)) == nil {
            throw ValidationError("unknown precision '\(p)' (float16, int8, float32, pq4, pq8, pq16, pq32)")
        }
        guard candidates >= 1 else { throw ValidationError("--candidates must be at least 1") }
        guard queryEvery >= 1 else { throw ValidationError("--query-every must be at least 1") }
    }

    func run() throws {
        setvbuf(stdout, nil, _IOLBF, 0)
        let dir = directory ?? (NSTemporaryDirectory() + "scan-codec-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let report = try CodecStudy.run(model: model, features: features, captions: captions,
                                        precisions: precisions.split(separator: ",").compactMap { Precision(rawValue: String($0)) },
                                        candidates: candidates, queryStride: queryEvery, reuse: reuse, directory: dir, log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        print(report.table)
        if let best = report.smallestHolding() {
            print("smallest setting within 0.5 R@1/R@10 points of float16 exact and <= 6 KB per image at 36 x 1024: \(best.precision.rawValue)")
        } else {
            print("no setting holds R@1 and R@10 within 0.5 points of float16 exact at <= 6 KB per image at 36 x 1024")
        }
    }
}
