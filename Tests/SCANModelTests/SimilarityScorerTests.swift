import CSCANKernels
import SCANModel
import TestSupport
import XCTest

/// The fast scorer (DESIGN §5) against the straightforward cross attention and the reference.
final class SimilarityScorerTests: XCTestCase {
    func testFastEqualsStraightforwardForEveryOption() {
        var rng = TestRNG(seed: 7)
        let images = rng.embeddings(count: 9, lengths: 1...7, dim: 12)
        let captions = rng.embeddings(count: 11, lengths: 1...6, dim: 12)
        let raw = rng.embeddings(count: 4, lengths: 2...5, dim: 12, normalize: false)
        let rawCaps = rng.embeddings(count: 5, lengths: 2...5, dim: 12, normalize: false)
        for direction in CrossAttn.allCases {
            for norm in RawFeatureNorm.allCases {
                for agg in AggFunc.allCases {
                    let att = CrossAttention(direction: direction, rawFeatureNorm: norm, aggFunc: agg, lambdaSoftmax: direction == .t2i ? 9 : 4, lambdaLSE: 6)
                    for (imgs, caps) in [(images, captions), (raw, rawCaps)] {
                        let straight = att.scoreMatrix(images: imgs, captions: caps, as: Double.self)
                        // Small blocks so that blocking and ragged block edges are exercised.
                        let fast = SimilarityScorer(attention: att, contextRows: 10, queryRows: 7)
                        let f32 = fast.scores(images: imgs, captions: caps).map(Double.init)
                        let f64 = fast.scores(images: imgs, captions: caps, as: Double.self)
                        let scale = max(1, Tolerance.maxAbs(straight))
                        let label = "\(direction) \(norm) \(agg)"
                        XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(f32, straight), 1e-5 * scale, label + " float32")
                        XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(f64, straight), 1e-10 * scale, label + " float64")
                    }
                }
            }
        }
    }

    /// Items longer than a vector and blocks wider than a column tile, so that the kernel's masked
    /// segment edges, its padded last tile and its symmetric Gram form all count; run with the
    /// kernel build this CPU selects and with the baseline build every other CPU runs.
    func testFastEqualsStraightforwardOnLongItemsInEveryKernelBuild() {
        var rng = TestRNG(seed: 11)
        let images = rng.embeddings(count: 14, lengths: 1...40, dim: 16)
        let captions = rng.embeddings(count: 23, lengths: 1...21, dim: 16)
        let detected = scan_vector_build()
        defer { scan_force_vector_build(-1) }
        for isa in Set([detected, 0]).sorted() {
            scan_force_vector_build(Int32(isa))
            for direction in CrossAttn.allCases {
                for norm in RawFeatureNorm.allCases {
                    let att = CrossAttention(direction: direction, rawFeatureNorm: norm, aggFunc: .logSumExp,
                                             lambdaSoftmax: direction == .t2i ? 9 : 4, lambdaLSE: 6)
                    let straight = att.scoreMatrix(images: images, captions: captions, as: Double.self)
                    let scale = max(1, Tolerance.maxAbs(straight))
                    for scorer in [SimilarityScorer(attention: att), SimilarityScorer(attention: att, contextRows: 90, queryRows: 70)] {
                        let label = "kernel build \(isa) \(direction) \(norm) tiles \(scorer.contextRows)x\(scorer.queryRows)"
                        let f32 = scorer.scores(images: images, captions: captions).map(Double.init)
                        let f64 = scorer.scores(images: images, captions: captions, as: Double.self)
                        XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(f32, straight), 1e-5 * scale, label + " float32")
                        XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(f64, straight), 1e-10 * scale, label + " float64")
                    }
                }
            }
        }
    }

    /// A NaN in an embedding must reach the scores it touches (training stops on a non-finite loss),
    /// and only those.
    func testNaNReachesExactlyTheScoresItTouches() {
        var rng = TestRNG(seed: 5)
        var images = rng.embeddings(count: 4, lengths: 3...9, dim: 8)
        let captions = rng.embeddings(count: 5, lengths: 2...11, dim: 8)
        images.data[images.offsets[2] * 8 + 3] = .nan
        for direction in CrossAttn.allCases {
            let att = CrossAttention(direction: direction, rawFeatureNorm: .clippedL2norm, aggFunc: .logSumExp, lambdaSoftmax: 9, lambdaLSE: 6)
            let s = SimilarityScorer(attention: att).scores(images: images, captions: captions)
            for i in 0..<4 {
                for j in 0..<5 {
                    XCTAssertEqual(s[i * 5 + j].isNaN, i == 2, "\(direction) image \(i) caption \(j): \(s[i * 5 + j])")
                }
            }
        }
    }

    func testFastMatchesReferenceSims() throws {
        let cases = try ReferenceFixtures.cases(kinds: ["model", "train_step", "rect"])
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let model = try c.model()
            let img = try model.encodeImages(try c.tensors.tensor("images"))
            let cap = try model.encodeCaptions(try c.captions())
            let ref = try c.tensors.doubles("sims")
            let tol = 2e-5 * max(1, Tolerance.maxAbs(ref))
            let scorer = SimilarityScorer(attention: model.attention)
            XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(scorer.scores(images: img, captions: cap).map(Double.init), ref), tol, c.name)
            XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(scorer.scores(images: img, captions: cap, as: Double.self), ref), tol, c.name)
        }
    }
}
