import Foundation
import SCANCore
import SCANData

/// `scan-data convert` on a generated bottom-up-attention TSV of paper-size images (36 boxes x 2048
/// features, ~400 KB of base64 per line): throughput and the process's peak resident memory, which
/// must stay at a few images whatever the TSV's size (the original holds the whole file).
public struct ConvertBenchmark {
    public var images = 10_000
    public var boxes = 36
    public var dim = 2048
    /// Working directory (default: a temporary one, removed afterwards).
    public var directory: String?

    public init() {}

    public func run(out: (String) -> Void = { print($0) }) throws {
        let fm = FileManager.default
        let dir = directory ?? (NSTemporaryDirectory() + "scan-convert-bench-\(getpid())")
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if directory == nil { try? fm.removeItem(atPath: dir) } }
        let tsv = dir + "/features.tsv", list = dir + "/list.txt"
        // The TSV is written a line at a time; the list asks for every image in reverse order.
        let t0 = Yardstick.now()
        guard let f = fopen(tsv, "wb") else { throw DatasetError.cannotOpen(file: tsv, reason: String(cString: strerror(errno))) }
        var rng = SplitMix64(seed: 3)
        var row = [Float](repeating: 0, count: boxes * dim)
        let boxValues = (0..<(boxes * 4)).map { Float($0) }
        let boxText = boxValues.withUnsafeBytes { Data($0).base64EncodedString() }
        for i in 0..<images {
            for k in 0..<row.count { row[k] = rng.uniform() < 0.5 ? 0 : rng.uniform() * 4 }
            let feats = row.withUnsafeBytes { Data($0).base64EncodedString() }
            let line = "\(100_000 + i)\t640\t480\t\(boxes)\t\(boxText)\t\(feats)\n"
            _ = line.withCString { fputs($0, f) }
        }
        fclose(f)
        try ((0..<images).reversed().map { String(100_000 + $0) }.joined(separator: "\n") + "\n").write(toFile: list, atomically: true, encoding: .utf8)
        let generateSeconds = Yardstick.now() - t0
        let tsvBytes = (try? fm.attributesOfItem(atPath: tsv)[.size] as? Int) ?? 0
        let rssBefore = Yardstick.peakRSSBytes()
        var converter = PrecompConverter(imageIDList: list, inputFile: tsv, outputDirectory: dir + "/out", split: "test")
        converter.showProgress = false
        let report = try converter.run()
        let rss = Yardstick.peakRSSBytes()
        out(String(format: "generated TSV: %d images x %d boxes x %d, %.2f GB, in %.0f s", images, boxes, dim, Double(tsvBytes) / 1e9, generateSeconds))
        out(String(format: "scan-data convert: %.1f s, %.0f images/s, %.0f MB/s of TSV; output %@ (%@)", report.seconds,
                   Double(images) / report.seconds, Double(tsvBytes) / report.seconds / 1e6,
                   report.imagesPath, report.shape.map(String.init).joined(separator: " x ")))
        out(String(format: "peak resident memory of the process (ru_maxrss): %.0f MB (%.0f MB before converting)", Double(rss) / 1e6, Double(rssBefore) / 1e6))
        // Spot check: the first output row is the last TSV image.
        let npy = try NPYArray(path: report.imagesPath)
        out("first output row is image \(100_000 + images - 1): \(npy.shape[0] == images ? "shape ok" : "SHAPE WRONG")")
    }
}
