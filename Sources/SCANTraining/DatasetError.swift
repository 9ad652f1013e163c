/// Problems with a precomp data folder, found before any long computation.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String, hint: String)
    case countMismatch(images: String, imageCount: Int, captions: String, captionCount: Int)
    case featureShape(file: String, expected: String, found: [Int])
    case featureDimension(file: String, modelImgDim: Int, found: Int)
    case nonFinite(file: String, image: Int, region: Int, dimension: Int, value: String)
    case emptySplit(file: String)
    case badFolds(reason: String)
    /// `--val_train_images` asks for more images than train can spare (or train's captions are not 5 per image).
    case badValidationSlice(file: String, images: Int, trainImages: Int)

    public var description: String {
        switch self {
        case let .missingFile(path, hint): return "\(path): no such file\(hint.isEmpty ? "" : " (\(hint))")"
        case let .countMismatch(im, ni, cap, nc):
            return "\(im) has \(ni) images and \(cap) has \(nc) captions: expected 5 captions per image (or one image row per caption)"
        case let .featureShape(file, expected, found): return "\(file): expected features of shape \(expected), found \(found)"
        case let .featureDimension(file, e, f): return "\(file): features have dimension \(f), but the model's img_dim is \(e)"
        case let .nonFinite(file, image, region, dimension, value):
            return "\(file): image \(image) (row \(image)), region \(region), dimension \(dimension): value \(value) is not finite"
        case let .emptySplit(file): return "\(file): no captions"
        case let .badFolds(reason): return "--fold5: \(reason)"
        case let .badValidationSlice(file, n, total):
            return "\(file): cannot hold out \(n) of its \(total) images (5 captions each) for validation: --val_train_images must be 1...\(max(1, total - 1))"
        }
    }
}
