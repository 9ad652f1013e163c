import Foundation
import SCANCore

/// One split of the original's precomp layout (DESIGN §2): `{split}_ims.npy` (N x 36 x 2048 float32,
/// memory-mapped) and `{split}_caps.txt` (one caption per line, 5 per image, or one image row per
/// caption). The `dev` split keeps its first 5000 captions, like the original.
public struct PrecompSplit: @unchecked Sendable {
    public let name: String
    public let imagesPath: String
    public let captionsPath: String
    public let images: NPYArray
    public let captions: [String]
    /// Captions per image row: 5 (one row per image) or 1 (one row per caption).
    public let imageDivisor: Int

    public init(folder: String, split: String) throws {
        name = split
        imagesPath = PrecompLayout.imagesPath(folder: folder, split: split)
        captionsPath = PrecompLayout.captionsPath(folder: folder, split: split)
        for p in [imagesPath, captionsPath] where !FileManager.default.fileExists(atPath: p) {
            throw DatasetError.missingFile(path: p, hint: "a precomp folder holds {split}_ims.npy and {split}_caps.txt")
        }
        do { images = try NPYArray(path: imagesPath) } catch { throw DatasetError.from(error, file: imagesPath) }
        guard images.shape.count == 3 else {
            throw DatasetError.featureShape(file: imagesPath, expected: "(images, regions, img_dim)", found: images.shape)
        }
        var lines = try CaptionFile.read(captionsPath)
        if lines.isEmpty { throw DatasetError.emptySplit(file: captionsPath) }
        let nImages = images.shape[0]
        guard let divisor = PrecompLayout.captionsPerRow(images: nImages, captions: lines.count) else {
            throw DatasetError.countMismatch(images: imagesPath, imageCount: nImages, captions: captionsPath, captionCount: lines.count)
        }
        imageDivisor = divisor
        if split == "dev" && lines.count > 5000 { lines = Array(lines[0..<5000]) }
        captions = lines
    }

    public var regionsPerImage: Int { images.shape[1] }
    public var featureDim: Int { images.shape[2] }

    /// The image row of caption j.
    public func imageRow(forCaption j: Int) -> Int { j / imageDivisor }

    /// The distinct images of the evaluation, one per 5 captions (the original keeps every 5th
    /// per-caption image embedding), as rows of the npy file.
    public var evaluationImageRows: [Int] {
        stride(from: 0, to: captions.count, by: 5).map { imageRow(forCaption: $0) }
    }

    /// Checks the features against the model and for NaN/inf, before any long computation.
    public func validate(imgDim: Int) throws {
        guard featureDim == imgDim else {
            throw DatasetError.featureDimension(file: imagesPath, modelImgDim: imgDim, found: featureDim)
        }
        guard captions.count % 5 == 0 else {
            throw DatasetError.countMismatch(images: imagesPath, imageCount: images.shape[0], captions: captionsPath, captionCount: captions.count)
        }
        let rows = Array(Set(evaluationImageRows)).sorted()
        let per = regionsPerImage * featureDim
        var bad = Int.max
        let lock = NSLock()
        Parallel.forChunks(rows.count) { range in
            var buf = [Float](repeating: 0, count: per)
            buf.withUnsafeMutableBufferPointer { b in
                for k in range {
                    images.copyFloats(offset: rows[k] * per, count: per, into: b.baseAddress!)
                    var finite = true
                    for x in b where !x.isFinite { finite = false; break }
                    if !finite { lock.lock(); bad = min(bad, rows[k]); lock.unlock(); return }
                }
            }
        }
        if bad != Int.max {
            var row = [Float](repeating: 0, count: per)
            row.withUnsafeMutableBufferPointer { images.copyFloats(offset: bad * per, count: per, into: $0.baseAddress!) }
            let i = row.firstIndex { !$0.isFinite } ?? 0
            throw DatasetError.nonFinite(file: imagesPath, image: bad, region: i / featureDim, dimension: i % featureDim, value: "\(row[i])")
        }
    }
}
