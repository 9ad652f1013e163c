import SCANModel
import TestSupport
import XCTest

/// Encoders and similarity matrices against the original implementation, for every model case in
/// SCAN_REFERENCE_DIR.
final class ReferenceModelTests: XCTestCase {
    func modelCases() throws -> [ReferenceCase] {
        let cases = try ReferenceFixtures.cases(kinds: ["model", "train_step", "rect"])
        XCTAssertFalse(cases.isEmpty, "no model cases found in \(ReferenceFixtures.directory.path): a folder with zero cases is a failure")
        return cases
    }

    /// cap_emb reference (n_cap x max_len x D) with zero rows at padding, flattened to our ragged layout.
    func raggedReference(_ ref: [Double], shape: [Int], lengths: [Int]) -> [Double] {
        var out: [Double] = []
        for i in 0..<shape[0] {
            let base = i * shape[1] * shape[2]
            out += ref[base..<(base + lengths[i] * shape[2])]
        }
        return out
    }

    func testEmbeddingsAndSimilaritiesMatchReference() throws {
        for c in try modelCases() {
            let model = try c.model()
            let images = try c.tensors.tensor("images")
            let img = try model.encodeImages(images)
            let refImg = try c.tensors.doubles("img_emb")
            let tolImg = 1e-5 * max(1, Tolerance.maxAbs(refImg))
            XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(img.data.map(Double.init), refImg), tolImg, "\(c.name): img_emb")

            let captions = try c.captions()
            let cap = try model.encodeCaptions(captions)
            let refCapFull = try c.tensors.doubles("cap_emb")
            let refCap = raggedReference(refCapFull, shape: try c.tensors.shape("cap_emb"), lengths: captions.map(\.count))
            let tolCap = 1e-5 * max(1, Tolerance.maxAbs(refCap))
            XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(cap.data.map(Double.init), refCap), tolCap, "\(c.name): cap_emb")

            let refSims = try c.tensors.doubles("sims")
            let tolSims = 2e-5 * max(1, Tolerance.maxAbs(refSims))
            let straight = model.attention.scoreMatrix(images: img, captions: cap, as: Float.self).map(Double.init)
            XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(straight, refSims), tolSims, "\(c.name): sims (straightforward float)")
            let straight64 = model.attention.scoreMatrix(images: img, captions: cap, as: Double.self)
            XCTAssertLessThanOrEqual(Tolerance.maxAbsDiff(straight64, refSims), tolSims, "\(c.name): sims (straightforward double)")
        }
    }
}
