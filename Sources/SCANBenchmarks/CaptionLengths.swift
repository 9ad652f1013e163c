import Foundation

/// Caption lengths for benchmarks.
public enum CaptionLengths {
    /// Caption lengths (tokens incl. <start>/<end>) following Flickr30K: the real test captions when
    /// the reference folder is present (whitespace tokens + 2; they are pre-tokenised), else a fixed
    /// distribution with the same mean.
    public static func flickr30k(count: Int, seed: UInt64) -> [Int] {
        var lengths: [Int] = []
        let candidates = [ProcessInfo.processInfo.environment["SCAN_REFERENCE_DIR"], "../shared/fixtures/reference"].compactMap { $0 }
        for dir in candidates {
            if let text = try? String(contentsOfFile: dir + "/test_caps.txt", encoding: .utf8) {
                lengths = text.split(separator: "\n").map { $0.split(separator: " ").count + 2 }
                break
            }
        }
        if lengths.isEmpty { lengths = (0..<count).map { 9 + ($0 * 7919) % 14 } }
        return (0..<count).map { lengths[$0 % lengths.count] }
    }
}
