import Foundation
import SCANCore
import SCANIndex
import TestSupport
import XCTest

enum Fixture {
    static let embedDim = 16
    static let imgDim = 12
    static let prefilterDim = 16

    static func configuration(fingerprint: String = "model-A", precision: Precision = .float16,
                              embedDim: Int = embedDim, compressionLevel: Int = 3) -> IndexWriter.Configuration {
        IndexWriter.Configuration(modelFingerprint: fingerprint, modelName: "test-model", embedDim: embedDim, imgDim: imgDim,
                                  precision: precision, prefilterKind: .mean, prefilterDim: prefilterDim,
                                  compressionLevel: compressionLevel)
    }

    /// Records with ids `ids`; region counts vary with the id's hash, values are deterministic per id.
    static func records(_ ids: [String], embedDim: Int = embedDim, source: String = "unit-test") -> [ImageRecord] {
        ids.map { id in
            var rng = TestRNG(seed: UInt64(truncatingIfNeeded: id.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
            let rows = rng.int(1..<9)
            let regions = Tensor(shape: [rows, embedDim], data: rng.floats(rows * embedDim))
            var mean = [Float](repeating: 0, count: embedDim)
            for r in 0..<rows { for j in 0..<embedDim { mean[j] += regions[r, j] / Float(rows) } }
            return ImageRecord(id: id, source: source, captions: ["a caption of \(id)", "another one"],
                               boxes: rng.floats(rows * 4, scale: 100), regions: regions, prefilter: Array(mean.prefix(prefilterDim)))
        }
    }

    static func ids(_ range: Range<Int>) -> [String] { range.map { "img-\($0)" } }
}

/// Asserts that `body` throws an IndexError matching `matches`.
func XCTAssertIndexError<T>(_ body: @autoclosure () throws -> T, _ message: String = "", file: StaticString = #filePath, line: UInt = #line,
                            _ matches: (IndexError) -> Bool) {
    XCTAssertThrows(IndexError.self, try body(), message, file: file, line: line, matches)
}
