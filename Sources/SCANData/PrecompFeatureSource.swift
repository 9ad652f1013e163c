import Foundation
import SCANCore

/// The original precomputed features: `{split}_ims.npy` (N x regions x img_dim, memory-mapped),
/// an optional `{split}_caps.txt` (caption i belongs to image i / 5 when there are 5N captions,
/// to image i when there are N) and an optional ids file (one id per image and line; a file with
/// five identical consecutive lines per image is accepted too). Without an ids file, image i's id is "i".
public final class PrecompFeatureSource: FeatureSource {
    public let imagesPath: String
    public let captionsPath: String?
    public let idsPath: String?
    public let images: NPYArray
    /// Captions per image: 0 (no captions file), 1 or 5.
    public let captionsPerImage: Int
    public let regionsPerImage: Int
    public let imgDim: Int
    public let count: Int
    private let captions: [String]
    private let externalIDs: [String]?

    public var sourceDescription: String { imagesPath }

    /// Opens and checks the files (nothing is read beyond headers, captions and ids).
    public init(imagesPath: String, captionsPath: String? = nil, idsPath: String? = nil) throws {
        self.imagesPath = imagesPath
        self.captionsPath = captionsPath
        self.idsPath = idsPath
        do { images = try NPYArray(path: imagesPath) } catch { throw DatasetError.from(error, file: imagesPath) }
        guard images.shape.count == 3 else {
            throw DatasetError.shapeMismatch(file: imagesPath, field: "shape", expected: "(images, regions, img_dim)", found: "\(images.shape)")
        }
        count = images.shape[0]
        regionsPerImage = images.shape[1]
        imgDim = images.shape[2]
        guard count > 0 else { throw DatasetError.emptySource(file: imagesPath) }
        guard regionsPerImage > 0, imgDim > 0 else {
            throw DatasetError.shapeMismatch(file: imagesPath, field: "shape", expected: "regions > 0 and img_dim > 0", found: "\(images.shape)")
        }
        if let captionsPath {
            let caps = try CaptionFile.read(captionsPath)
            guard let perImage = PrecompLayout.captionsPerRow(images: count, captions: caps.count) else {
                throw DatasetError.captionCountMismatch(file: captionsPath, captions: caps.count, images: count)
            }
            captionsPerImage = perImage
            captions = caps
        } else {
            captionsPerImage = 0
            captions = []
        }
        if let idsPath {
            let lines = try SourceSupport.readLines(idsPath).map { $0.trimmingCharacters(in: .whitespaces) }
            var ids = lines
            var lineOf: (Int) -> Int = { $0 + 1 }
            if lines.count == 5 * count && count > 0 {
                // One id per caption (five identical lines per image).
                ids = stride(from: 0, to: lines.count, by: 5).map { lines[$0] }
                for i in 0..<count where Set(lines[(5 * i)..<(5 * i + 5)]).count != 1 {
                    throw DatasetError.idCountMismatch(file: idsPath, expected: count, found: lines.count)
                }
                lineOf = { 5 * $0 + 1 }
            }
            guard ids.count == count else { throw DatasetError.idCountMismatch(file: idsPath, expected: count, found: lines.count) }
            try SourceSupport.checkIDs(ids, file: idsPath, lineOf: lineOf)
            externalIDs = ids
        } else {
            externalIDs = nil
        }
    }

    /// `DIR/{split}_ims.npy`, with `DIR/{split}_caps.txt` when it exists.
    public convenience init(dataDirectory: String, split: String, idsPath: String? = nil) throws {
        let caps = PrecompLayout.captionsPath(folder: dataDirectory, split: split)
        try self.init(imagesPath: PrecompLayout.imagesPath(folder: dataDirectory, split: split),
                      captionsPath: FileManager.default.fileExists(atPath: caps) ? caps : nil, idsPath: idsPath)
    }

    public func id(at index: Int) -> String { externalIDs?[index] ?? String(index) }

    public func captions(at index: Int) -> [String] {
        captionsPerImage == 0 ? [] : Array(captions[(index * captionsPerImage)..<((index + 1) * captionsPerImage)])
    }

    public func item(at index: Int) throws -> FeatureItem {
        precondition(index >= 0 && index < count, "image \(index) out of 0..<\(count)")
        let features = images.rows(index..<(index + 1)).reshaped([regionsPerImage, imgDim])
        try SourceSupport.checkFinite(features, file: imagesPath, record: id(at: index), row: index)
        return FeatureItem(id: id(at: index), source: sourceDescription, features: features, captions: captions(at: index))
    }

    public func checkValues() throws {
        try SourceSupport.checkFinite(images, file: imagesPath, rowSize: regionsPerImage * imgDim, columns: imgDim,
                                      recordOf: { self.id(at: $0) })
    }
}
