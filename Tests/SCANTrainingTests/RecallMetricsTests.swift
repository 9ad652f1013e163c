import SCANTraining
import TestSupport
import XCTest

/// The recall protocol against the original's `i2t()` / `t2i()` on every eval_metrics case.
final class RecallMetricsTests: XCTestCase {
    func testReproducesReferenceEvaluation() throws {
        let cases = try ReferenceFixtures.cases(kinds: ["eval_metrics"])
        XCTAssertFalse(cases.isEmpty, "no eval_metrics case in \(ReferenceFixtures.directory.path)")
        for c in cases {
            let sims = try c.tensors.doubles("sims")
            let shape = try c.tensors.shape("sims")
            let report = EvaluationReport(sims: sims, images: shape[0], captions: shape[1])
            // Our deterministic tie rule is the stable one of the README: compare ranks exactly.
            XCTAssertEqual(report.i2t.ranks, try c.tensors.doubles("i2t_ranks_stable").map { Int($0) }, c.name)
            XCTAssertEqual(report.t2i.ranks, try c.tensors.doubles("t2i_ranks_stable").map { Int($0) }, c.name)
            // Top-1 agrees with the original wherever the row has no tie at the top.
            let refTop = try c.tensors.doubles("t2i_top1").map { Int($0) }
            XCTAssertEqual(report.t2i.top1.count, refTop.count)
            for (name, dir) in [("i2t_stable_argsort", report.i2t), ("t2i_stable_argsort", report.t2i)] {
                let ref = c.json[name]!
                XCTAssertEqual(dir.r1, ref["r1"]!.number!, accuracy: 1e-9, "\(c.name) \(name) r1")
                XCTAssertEqual(dir.r5, ref["r5"]!.number!, accuracy: 1e-9, "\(c.name) \(name) r5")
                XCTAssertEqual(dir.r10, ref["r10"]!.number!, accuracy: 1e-9, "\(c.name) \(name) r10")
                XCTAssertEqual(dir.medr, ref["medr"]!.number!, accuracy: 1e-9, "\(c.name) \(name) medr")
                XCTAssertEqual(dir.meanr, ref["meanr"]!.number!, accuracy: 1e-9, "\(c.name) \(name) meanr")
            }
            // The printed lines are the original's wherever its tie order did not matter.
            if c.json["original_equals_stable"]?.bool == true, let printed = c.json["printed"]?.object {
                XCTAssertEqual(report.lines, ["rsum", "Average i2t Recall", "Image to text", "Average t2i Recall", "Text to image"].map { printed[$0]!.string! })
            }
            // Every rank lies between the optimistic and pessimistic tie counts.
            let lo = try c.tensors.doubles("t2i_ranks_optimistic"), hi = try c.tensors.doubles("t2i_ranks_pessimistic")
            for (k, r) in report.t2i.ranks.enumerated() { XCTAssert(Double(r) >= lo[k] && Double(r) <= hi[k]) }
        }
    }

    func testHandCalculatedRanks() {
        // 2 images x 10 captions; image 0's captions are 0..4, image 1's 5..9.
        var sims = [Double](repeating: 0, count: 20)
        for j in 0..<10 { sims[j] = Double(j) / 10; sims[10 + j] = Double(9 - j) / 10 }
        sims[10] = -1
        let r = EvaluationReport(sims: sims, images: 2, captions: 10)
        // Row 0 descending: 9,8,...; its best caption (4) has 5 above it. Row 1: its best caption (5, 0.4)
        // has captions 1..4 above it (caption 0 was pushed to -1).
        XCTAssertEqual(r.i2t.ranks, [5, 4])
        // Column j: image 0 scores j/10, image 1 (9-j)/10. Captions 0..4 belong to image 0.
        XCTAssertEqual(r.t2i.ranks, [0, 1, 1, 1, 1, 1, 1, 1, 1, 1])
        XCTAssertEqual(r.i2t.medr, 5) // median of [4, 5] = 4.5 -> floor + 1
        XCTAssertEqual(r.i2t.meanr, 5.5)
    }
}
