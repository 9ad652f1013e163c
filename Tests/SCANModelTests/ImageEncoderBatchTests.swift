import SCANModel
import TestSupport
import XCTest

/// What a product-quantised (or float16) record holds is a function of the image's encoded regions,
/// so an index is the same however its images were batched (split == build --shard) only if the
/// image encoder's output for an image does not depend on its batch: the rows around it, its
/// position in the batch's matrix product (BLAS tiles and their edges, the threads' split).
final class ImageEncoderBatchTests: XCTestCase {
    func testAnImagesRegionsAreTheSameBitsInEveryBatch() {
        var rng = TestRNG(seed: 21)
        // Paper size: 2048-dim features to 1024-dim regions, 36 regions per image (8 of 5 regions
        // and one of a single region too, so that rows fall on every offset of the BLAS tiles and a
        // batch can be one row).
        let (imgDim, embed) = (2048, 1024)
        let encoder = ImageEncoder(weight: Tensor(shape: [embed, imgDim], data: rng.floats(embed * imgDim, scale: 0.02)),
                                   bias: rng.floats(embed, scale: 0.1), normalize: true)
        let lengths = (0..<40).map { $0 % 5 == 4 ? 5 : $0 == 13 ? 1 : 36 }
        let images = lengths.map { rng.floats($0 * imgDim) }
        func encode(_ which: [Int]) -> [[UInt32]] {
            var offsets = [0], data: [Float] = []
            for i in which { data += images[i]; offsets.append(offsets.last! + lengths[i]) }
            let out = encoder.encode(EmbeddingSet(dim: imgDim, offsets: offsets, data: data))
            return which.indices.map { k in Array(out.data[(out.offsets[k] * embed)..<(out.offsets[k + 1] * embed)]).map(\.bitPattern) }
        }
        let all = Array(0..<images.count)
        let whole = encode(all)
        var differing = Set<Int>()
        for batch in [1, 2, 3, 7, 16] {
            for start in stride(from: 0, to: all.count, by: batch) {
                let part = Array(all[start..<min(all.count, start + batch)])
                for (k, bits) in encode(part).enumerated() where bits != whole[part[k]] { differing.insert(part[k]) }
            }
        }
        // Reversed order: each image at another row offset with other neighbours.
        for (k, bits) in encode(all.reversed()).enumerated() where bits != whole[all.count - 1 - k] { differing.insert(all.count - 1 - k) }
        XCTAssertEqual(differing.sorted(), [], "images whose encoded regions changed with the batch")
    }
}
