import Foundation
import SCANCore

/// A collection of images with raw region features, read in batches by index builders.
///
/// Initialisers check the structure (file headers, truncation, caption and id counts, TSV fields)
/// and throw typed `IndexError`s; `validate(expectedImgDim:checkValues:)` checks the feature dim and
/// (optionally) that every value is finite, so that a build can refuse bad input before it writes
/// anything. `item(at:)` also rejects non-finite values.
public protocol FeatureSource: AnyObject {
    /// Describes the source (the feature file or directory); used as `ImageRecord.source`.
    var sourceDescription: String { get }
    /// Number of images.
    var count: Int { get }
    /// Feature dimension of the data.
    var imgDim: Int { get }
    /// External id of image `index` (cheap: no features are read).
    func id(at index: Int) -> String
    /// Image `index` with its features.
    func item(at index: Int) throws -> FeatureItem
    /// Throws `DatasetError.nonFiniteValue` for the first NaN or infinite feature value.
    func checkValues() throws
}

extension FeatureSource {
    /// All external ids in order.
    public var ids: [String] { (0..<count).map { id(at: $0) } }

    /// Checks that the features have `expectedImgDim` columns and, with `checkValues`, that all values are finite.
    public func validate(expectedImgDim: Int, checkValues: Bool = true) throws {
        guard imgDim == expectedImgDim else {
            throw DatasetError.shapeMismatch(file: sourceDescription, field: "feature dim (img_dim)",
                                           expected: "\(expectedImgDim)", found: "\(imgDim)")
        }
        if checkValues { try self.checkValues() }
    }

    public func items(in range: Range<Int>) throws -> [FeatureItem] { try range.map { try item(at: $0) } }

    public func items(at indices: [Int]) throws -> [FeatureItem] { try indices.map { try item(at: $0) } }

    /// `0..<count` cut into consecutive ranges of at most `size` images.
    public func batchRanges(size: Int) -> [Range<Int>] {
        let s = max(1, size)
        return stride(from: 0, to: count, by: s).map { $0..<min(count, $0 + s) }
    }
}
