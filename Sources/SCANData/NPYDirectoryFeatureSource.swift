import Foundation
import SCANCore

/// A directory of per-image `.npy` files (regions x img_dim; the region count may vary), in sorted
/// file-name order; the id is the file name without `.npy`. An optional `NAME.txt` next to
/// `NAME.npy` holds the image's captions, one per line.
public final class NPYDirectoryFeatureSource: FeatureSource {
    public let directory: String
    public let imgDim: Int
    /// File names (with `.npy`), sorted by their UTF-8 bytes.
    public let fileNames: [String]
    /// Regions of each file.
    public let regionCounts: [Int]

    public var sourceDescription: String { directory }
    public var count: Int { fileNames.count }

    /// Lists the directory and checks every file's header, size and shape.
    public init(directory: String) throws {
        self.directory = directory
        let all: [String]
        do { all = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw DatasetError.cannotOpen(file: directory, reason: error.localizedDescription)
        }
        let names = all.filter { $0.hasSuffix(".npy") && $0.count > 4 }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !names.isEmpty else { throw DatasetError.emptySource(file: directory) }
        var dim = -1
        var rows: [Int] = []
        rows.reserveCapacity(names.count)
        for name in names {
            let path = directory + "/" + name
            let npy: NPYArray
            do { npy = try NPYArray(path: path) } catch { throw DatasetError.from(error, file: path) }
            let shape = npy.shape.count == 3 && npy.shape[0] == 1 ? Array(npy.shape.dropFirst()) : npy.shape
            guard shape.count == 2, shape[0] > 0, shape[1] > 0 else {
                throw DatasetError.shapeMismatch(file: path, field: "shape", expected: "(regions > 0, img_dim)", found: "\(npy.shape)")
            }
            if dim < 0 { dim = shape[1] } else if shape[1] != dim {
                throw DatasetError.shapeMismatch(file: path, field: "feature dim (img_dim)", expected: "\(dim) (as in \(names[0]))", found: "\(shape[1])")
            }
            rows.append(shape[0])
        }
        let ids = names.map { String($0.dropLast(4)) }
        try SourceSupport.checkIDs(ids, file: directory)
        fileNames = names
        regionCounts = rows
        imgDim = dim
    }

    public func id(at index: Int) -> String { String(fileNames[index].dropLast(4)) }

    private func load(_ index: Int) throws -> Tensor {
        let path = directory + "/" + fileNames[index]
        do {
            let npy = try NPYArray(path: path)
            let n = npy.count
            guard n == regionCounts[index] * imgDim else {
                throw DatasetError.shapeMismatch(file: path, field: "shape", expected: "(\(regionCounts[index]), \(imgDim))", found: "\(npy.shape) (file changed)")
            }
            return Tensor(shape: [regionCounts[index], imgDim], data: npy.floats())
        } catch { throw DatasetError.from(error, file: path) }
    }

    public func item(at index: Int) throws -> FeatureItem {
        let features = try load(index)
        let path = directory + "/" + fileNames[index]
        try SourceSupport.checkFinite(features, file: path, record: id(at: index))
        var captions: [String] = []
        let capPath = directory + "/" + id(at: index) + ".txt"
        if FileManager.default.fileExists(atPath: capPath) {
            captions = try SourceSupport.readLines(capPath).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        }
        return FeatureItem(id: id(at: index), source: sourceDescription, features: features, captions: captions)
    }

    public func checkValues() throws {
        var errors = [Error?](repeating: nil, count: count)
        errors.withUnsafeMutableBufferPointer { errs in
            Parallel.forEach(count) { i in
                do {
                    let t = try self.load(i)
                    try SourceSupport.checkFinite(t, file: self.directory + "/" + self.fileNames[i], record: self.id(at: i))
                } catch { errs[i] = error }
            }
        }
        if let e = errors.first(where: { $0 != nil }) { throw e! }
    }
}
