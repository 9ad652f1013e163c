import ArgumentParser
import Foundation
import SCANBenchmarks

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Seconds per training step at the paper's sizes (batch 128, embed 1024, word_dim 300, vocab 8480, 36 x 2048, bi-GRU, t2i LSE, max_violation).")

    @Option(help: "Timed steps (after one warm-up step).") var steps = 5
    @Option(name: .customLong("batch_size"), help: "Batch size.") var batchSize = 128

    func run() throws {
        // Real caption lengths and words when the reference folder is there (tokenised Flickr30K test captions).
        var pool: [[Int]]? = nil
        for dir in [ProcessInfo.processInfo.environment["SCAN_REFERENCE_DIR"], "../shared/fixtures/reference"].compactMap({ $0 }) {
            let path = dir + "/tokenize_f30k_test.jsonl"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            pool = text.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["ids"] as? [Int]
            }
            break
        }
        print(TrainingBenchmark.run(batchSize: batchSize, steps: steps, captionPool: pool))
    }
}
