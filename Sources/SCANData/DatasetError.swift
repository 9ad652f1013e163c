import Foundation
import SCANCore

/// Problems with a dataset or a feature file, found before any long computation. Every case names
/// the file (and where it applies the line, record and field), what was expected and what was found.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: Precomp folders and splits

    /// A file of a split is missing.
    case missingFile(path: String, hint: String)
    /// `data_path/data_name` is not a folder; `available` lists the `*_precomp` folders under `data_path`.
    case missingFolder(path: String, dataName: String, available: [String])
    /// The caption count of a split fits neither 5 captions per image row nor 1.
    case countMismatch(images: String, imageCount: Int, captions: String, captionCount: Int)
    /// A feature array of a split has the wrong rank.
    case featureShape(file: String, expected: String, found: [Int])
    /// The features' dimension differs from the model's img_dim.
    case featureDimension(file: String, modelImgDim: Int, found: Int)
    /// An image row of a split holds a NaN or infinite value (the first one: region, dimension, value).
    case nonFinite(file: String, image: Int, region: Int, dimension: Int, value: String)
    /// `--val_train_images` asks for more images than train can spare (or train's captions are not 5 per image).
    case badValidationSlice(file: String, images: Int, trainImages: Int)
    /// A captions file has no captions.
    case emptySplit(file: String)
    /// The 5-fold evaluation cannot be made on this split.
    case badFolds(reason: String)

    // MARK: Feature sources

    /// A source file cannot be opened or read.
    case cannotOpen(file: String, reason: String)
    /// A source file is shorter than its header says.
    case truncatedFile(file: String, expectedBytes: Int, foundBytes: Int)
    /// A source file's header or structure does not parse.
    case badSourceFile(file: String, reason: String)
    /// A path is not a feature source, or an option does not apply to it.
    case badSource(path: String, reason: String)
    /// A dimension of a source differs from the expected one (e.g. the feature dim vs the model's img_dim).
    case shapeMismatch(file: String, field: String, expected: String, found: String)
    /// The caption count fits neither one caption per image nor five.
    case captionCountMismatch(file: String, captions: Int, images: Int)
    /// The ids file has the wrong number of lines.
    case idCountMismatch(file: String, expected: Int, found: Int)
    /// An external id occurs twice in a source, or is empty / too long.
    case invalidID(file: String, line: Int, id: String, reason: String)
    /// A feature value is NaN or infinite (`index` is the flat offset within the record's field).
    case nonFiniteValue(file: String, record: String, field: String, index: Int)
    /// A region feature is NaN or infinite: image `image` (its id; `row` its row in a precomp .npy),
    /// region and dimension 0-based; `value` as printed ("nan", "inf", "-inf").
    case nonFiniteFeature(file: String, image: String, row: Int?, region: Int, dimension: Int, value: String)
    /// A line of a text source does not parse.
    case malformedLine(file: String, line: Int, reason: String)
    /// A source yields nothing.
    case emptySource(file: String)

    public var description: String {
        switch self {
        case let .missingFile(path, hint): return "\(path): no such file\(hint.isEmpty ? "" : " (\(hint))")"
        case let .missingFolder(path, dataName, available):
            let found = available.isEmpty ? "no *_precomp folders there" : "folders there: \(available.joined(separator: ", "))"
            return "\(path): no such folder (data_name \(dataName)); \(found)"
        case let .countMismatch(im, ni, cap, nc):
            return "\(im) has \(ni) images and \(cap) has \(nc) captions: expected 5 captions per image (or one image row per caption)"
        case let .featureShape(file, expected, found): return "\(file): expected features of shape \(expected), found \(found)"
        case let .featureDimension(file, e, f): return "\(file): features have dimension \(f), but the model's img_dim is \(e)"
        case let .nonFinite(file, image, region, dimension, value):
            return "\(file): image \(image) (row \(image)), region \(region), dimension \(dimension): value \(value) is not finite"
        case let .badValidationSlice(file, n, total):
            return "\(file): cannot hold out \(n) of its \(total) images (5 captions each) for validation: --val_train_images must be 1...\(max(1, total - 1))"
        case let .emptySplit(file): return "\(file): no captions"
        case let .badFolds(reason): return "--fold5: \(reason)"
        case let .cannotOpen(file, reason): return "\(file): cannot open: \(reason)"
        case let .truncatedFile(file, e, f): return "\(file): truncated: expected \(e) bytes, found \(f)"
        case let .badSourceFile(file, reason): return "\(file): \(reason)"
        case let .badSource(path, reason): return "\(path): \(reason)"
        case let .shapeMismatch(file, field, e, f): return "\(file): \(field): expected \(e), found \(f)"
        case let .captionCountMismatch(file, c, i):
            return "\(file): \(c) captions for \(i) images: expected \(i) (1:1) or \(5 * i) (5 per image)"
        case let .idCountMismatch(file, e, f): return "\(file): expected \(e) ids (one per image), found \(f) lines"
        case let .invalidID(file, line, id, reason): return "\(file): line \(line): id '\(id)': \(reason)"
        case let .nonFiniteValue(file, record, field, index): return "\(file): record \(record): \(field)[\(index)] is not finite"
        case let .nonFiniteFeature(file, image, row, region, dimension, value):
            let which = row.map { String($0) == image ? "image \(image) (row \($0))" : "image '\(image)' (row \($0))" } ?? "image '\(image)'"
            return "\(file): \(which), region \(region), dimension \(dimension): value \(value) is not finite "
                + "(fix the features or leave this image out)"
        case let .malformedLine(file, line, reason): return "\(file): line \(line): \(reason)"
        case let .emptySource(file): return "\(file): no images"
        }
    }

    /// Maps the SCANCore format errors raised while reading source files.
    static func from(_ error: Error, file: String) -> DatasetError {
        if let e = error as? DatasetError { return e }
        guard let f = error as? FormatError else { return .cannotOpen(file: file, reason: "\(error)") }
        switch f {
        case let .cannotOpen(file, reason): return .cannotOpen(file: file, reason: reason)
        case let .truncated(file, e, found): return .truncatedFile(file: file, expectedBytes: e, foundBytes: found)
        case let .shapeMismatch(file, field, e, found): return .shapeMismatch(file: file, field: field, expected: e, found: found)
        default: return .badSourceFile(file: file, reason: f.description)
        }
    }
}
