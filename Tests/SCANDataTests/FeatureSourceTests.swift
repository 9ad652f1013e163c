import Foundation
import SCANCore
@testable import SCANData
import TestSupport
import XCTest

final class FeatureSourceTests: XCTestCase {
    private func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    private func ims(_ n: Int, regions: Int = 3, dim: Int = 8, seed: UInt64 = 1) -> Tensor {
        var rng = TestRNG(seed: seed)
        return Tensor(shape: [n, regions, dim], data: rng.floats(n * regions * dim))
    }

    // MARK: precomp

    func testPrecompSourceWithCaptionsAndIDs() throws {
        let dir = makeTempDir(self)
        let x = ims(4)
        try NPY.write(x, to: dir + "/test_ims.npy")
        try write((0..<20).map { "caption \($0) " }.joined(separator: "\n") + "\n", dir + "/test_caps.txt")
        let src = try PrecompFeatureSource(dataDirectory: dir, split: "test")
        XCTAssertEqual(src.count, 4)
        XCTAssertEqual(src.imgDim, 8)
        XCTAssertEqual(src.captionsPerImage, 5)
        XCTAssertEqual(src.ids, ["0", "1", "2", "3"])
        try src.validate(expectedImgDim: 8)
        let item = try src.item(at: 2)
        XCTAssertEqual(item.id, "2")
        XCTAssertEqual(item.source, dir + "/test_ims.npy")
        XCTAssertEqual(item.captions, (10..<15).map { "caption \($0)" })
        XCTAssertEqual(item.features, x.slice(2))
        XCTAssertNil(item.boxes)
        XCTAssertEqual(src.batchRanges(size: 3), [0..<3, 3..<4])
        XCTAssertEqual(try src.items(in: 1..<3).map(\.id), ["1", "2"])

        // 1:1 captions (no trailing newline) and an ids file.
        try write("a\nb\nc\nd", dir + "/caps1.txt")
        try write("im-a\nim-b\r\nim-c\nim-d\n", dir + "/ids.txt")
        let one = try PrecompFeatureSource(imagesPath: dir + "/test_ims.npy", captionsPath: dir + "/caps1.txt", idsPath: dir + "/ids.txt")
        XCTAssertEqual(one.captionsPerImage, 1)
        XCTAssertEqual(one.ids, ["im-a", "im-b", "im-c", "im-d"])
        XCTAssertEqual(try one.item(at: 3).captions, ["d"])
        // One id per caption (5 identical lines per image) is accepted.
        try write((0..<20).map { "id\($0 / 5)" }.joined(separator: "\n"), dir + "/ids5.txt")
        XCTAssertEqual(try PrecompFeatureSource(imagesPath: dir + "/test_ims.npy", idsPath: dir + "/ids5.txt").ids, ["id0", "id1", "id2", "id3"])
    }

    func testPrecompValidationErrors() throws {
        let dir = makeTempDir(self)
        let imsPath = dir + "/x_ims.npy"
        try NPY.write(ims(4), to: imsPath)
        // Caption count fits neither 1:1 nor 1:5.
        try write((0..<7).map { "c\($0)" }.joined(separator: "\n"), dir + "/caps.txt")
        XCTAssertDatasetError(try PrecompFeatureSource(imagesPath: imsPath, captionsPath: dir + "/caps.txt")) {
            if case let .captionCountMismatch(_, c, i) = $0 { return c == 7 && i == 4 }; return false
        }
        // Ids file with the wrong number of lines, and with a duplicate.
        try write("a\nb\nc\n", dir + "/ids.txt")
        XCTAssertDatasetError(try PrecompFeatureSource(imagesPath: imsPath, idsPath: dir + "/ids.txt")) {
            if case let .idCountMismatch(_, e, f) = $0 { return e == 4 && f == 3 }; return false
        }
        try write("a\nb\nc\nb\n", dir + "/dup.txt")
        XCTAssertDatasetError(try PrecompFeatureSource(imagesPath: imsPath, idsPath: dir + "/dup.txt")) {
            if case let .invalidID(_, line, id, _) = $0 { return line == 4 && id == "b" }; return false
        }
        // Feature dim different from the model's img_dim.
        let src = try PrecompFeatureSource(imagesPath: imsPath)
        XCTAssertDatasetError(try src.validate(expectedImgDim: 2048)) {
            if case let .shapeMismatch(_, _, e, f) = $0 { return e == "2048" && f == "8" }; return false
        }
        // Truncated npy.
        let data = try Data(contentsOf: URL(fileURLWithPath: imsPath))
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: dir + "/t_ims.npy"))
        XCTAssertDatasetError(try PrecompFeatureSource(imagesPath: dir + "/t_ims.npy")) {
            if case let .truncatedFile(_, e, f) = $0 { return e == data.count && f == data.count - 10 }; return false
        }
        // Wrong rank.
        try NPY.write(Tensor(zeros: [4, 8]), to: dir + "/r_ims.npy")
        XCTAssertDatasetError(try PrecompFeatureSource(imagesPath: dir + "/r_ims.npy")) { if case .shapeMismatch = $0 { return true }; return false }
        // NaN features: found by validate and by item.
        var x = ims(4)
        x[2, 1, 5] = .nan
        try NPY.write(x, to: dir + "/n_ims.npy")
        let nanSrc = try PrecompFeatureSource(imagesPath: dir + "/n_ims.npy")
        XCTAssertDatasetError(try nanSrc.validate(expectedImgDim: 8)) {
            // Image 2, region 1, dimension 5 (flat offset 13 of the image's 2 x 8 values).
            if case let .nonFiniteFeature(_, image, row, region, dim, value) = $0 {
                return image == "2" && row == 2 && region == 1 && dim == 5 && value == "nan"
            }; return false
        }
        do {
            try nanSrc.validate(expectedImgDim: 8)
        } catch {
            XCTAssertTrue("\(error)".contains("image 2 (row 2), region 1, dimension 5: value nan is not finite"), "\(error)")
        }
        XCTAssertNoThrow(try nanSrc.validate(expectedImgDim: 8, checkValues: false))
        XCTAssertDatasetError(try nanSrc.item(at: 2)) {
            if case let .nonFiniteFeature(_, image, row, region, dim, _) = $0 { return image == "2" && row == 2 && region == 1 && dim == 5 }; return false
        }
        XCTAssertNoThrow(try nanSrc.item(at: 1))
        // Missing file.
        XCTAssertDatasetError(try PrecompFeatureSource(imagesPath: dir + "/missing.npy")) { if case .cannotOpen = $0 { return true }; return false }
    }

    // MARK: npy directory

    func testNPYDirectorySource() throws {
        let dir = makeTempDir(self)
        var rng = TestRNG(seed: 2)
        let shapes = [("b", 2), ("a", 5), ("c10", 3), ("c9", 1)]
        var tensors: [String: Tensor] = [:]
        for (name, rows) in shapes {
            let t = Tensor(shape: [rows, 6], data: rng.floats(rows * 6))
            tensors[name] = t
            try NPY.write(t, to: dir + "/\(name).npy")
        }
        try write("a dog\n\na cat\n", dir + "/a.txt")
        try write("not a feature file", dir + "/README")
        let src = try NPYDirectoryFeatureSource(directory: dir)
        XCTAssertEqual(src.ids, ["a", "b", "c10", "c9"])
        XCTAssertEqual(src.regionCounts, [5, 2, 3, 1])
        XCTAssertEqual(src.imgDim, 6)
        try src.validate(expectedImgDim: 6)
        let a = try src.item(at: 0)
        XCTAssertEqual(a.features, tensors["a"])
        XCTAssertEqual(a.captions, ["a dog", "a cat"])
        XCTAssertEqual(try src.item(at: 3).features, tensors["c9"])
        XCTAssertDatasetError(try src.validate(expectedImgDim: 7)) { if case .shapeMismatch = $0 { return true }; return false }
    }

    func testNPYDirectoryValidationErrors() throws {
        let root = makeTempDir(self)
        XCTAssertDatasetError(try NPYDirectoryFeatureSource(directory: root)) { if case .emptySource = $0 { return true }; return false }
        // Mixed feature dims.
        let mixed = root + "/mixed"
        try FileManager.default.createDirectory(atPath: mixed, withIntermediateDirectories: true)
        try NPY.write(Tensor(zeros: [2, 6]), to: mixed + "/a.npy")
        try NPY.write(Tensor(zeros: [2, 7]), to: mixed + "/b.npy")
        XCTAssertDatasetError(try NPYDirectoryFeatureSource(directory: mixed)) {
            if case let .shapeMismatch(file, _, _, found) = $0 { return file.hasSuffix("/b.npy") && found == "7" }; return false
        }
        // A truncated file.
        let trunc = root + "/trunc"
        try FileManager.default.createDirectory(atPath: trunc, withIntermediateDirectories: true)
        try NPY.write(Tensor(zeros: [2, 6]), to: trunc + "/a.npy")
        try NPY.write(Tensor(zeros: [3, 6]), to: trunc + "/b.npy")
        let d = try Data(contentsOf: URL(fileURLWithPath: trunc + "/b.npy"))
        try d.prefix(d.count - 4).write(to: URL(fileURLWithPath: trunc + "/b.npy"))
        XCTAssertDatasetError(try NPYDirectoryFeatureSource(directory: trunc)) {
            if case let .truncatedFile(file, _, _) = $0 { return file.hasSuffix("/b.npy") }; return false
        }
        // NaN.
        let nan = root + "/nan"
        try FileManager.default.createDirectory(atPath: nan, withIntermediateDirectories: true)
        var t = Tensor(zeros: [2, 6])
        t[1, 1] = .infinity
        try NPY.write(Tensor(zeros: [2, 6]), to: nan + "/a.npy")
        try NPY.write(t, to: nan + "/b.npy")
        let src = try NPYDirectoryFeatureSource(directory: nan)
        XCTAssertDatasetError(try src.validate(expectedImgDim: 6)) {
            if case let .nonFiniteFeature(_, image, row, region, dim, value) = $0 { return image == "b" && row == nil && region == 1 && dim == 1 && value == "inf" }; return false
        }
    }

    // MARK: TSV

    private func b64(_ values: [Float]) -> String { values.withUnsafeBytes { Data($0).base64EncodedString() } }

    private func tsvLine(_ id: String, _ boxes: [Float], _ feats: [Float], numBoxes: Int, w: Int = 640, h: Int = 480) -> String {
        "\(id)\t\(w)\t\(h)\t\(numBoxes)\t\(b64(boxes))\t\(b64(feats))"
    }

    func testTSVSource() throws {
        let dir = makeTempDir(self)
        var rng = TestRNG(seed: 3)
        let dim = 10
        var expected: [(String, [Float], [Float], Int)] = []
        for (id, nb) in [("391895", 3), ("522418", 1), ("184613", 7)] {
            expected.append((id, rng.floats(nb * 4, scale: 500), rng.floats(nb * dim), nb))
        }
        var text = "image_id\timage_w\timage_h\tnum_boxes\tboxes\tfeatures\n"
        text += expected.map { tsvLine($0.0, $0.1, $0.2, numBoxes: $0.3) }.joined(separator: "\r\n") + "\n\n"
        // A Python-3 bytes literal field is tolerated.
        text += "999\t10\t20\t1\tb'\(b64([1, 2, 3, 4]))'\tb'\(b64((0..<dim).map(Float.init)))'\n"
        try write(text, dir + "/feat.tsv")
        let src = try TSVFeatureSource(path: dir + "/feat.tsv")
        XCTAssertEqual(src.count, 4)
        XCTAssertEqual(src.imgDim, dim)
        XCTAssertEqual(src.ids, ["391895", "522418", "184613", "999"])
        try src.validate(expectedImgDim: dim)
        for (i, e) in expected.enumerated() {
            let item = try src.item(at: i)
            XCTAssertEqual(item.id, e.0)
            XCTAssertEqual(item.boxes, e.1)
            XCTAssertEqual(item.features.shape, [e.3, dim])
            XCTAssertEqual(item.features.data, e.2)
            XCTAssertEqual(item.imageWidth, 640)
            XCTAssertEqual(item.imageHeight, 480)
            XCTAssertEqual(item.source, dir + "/feat.tsv")
        }
        XCTAssertEqual(try src.item(at: 3).boxes, [1, 2, 3, 4])
        XCTAssertDatasetError(try src.validate(expectedImgDim: 2048)) { if case .shapeMismatch = $0 { return true }; return false }
    }

    func testTSVValidationErrors() throws {
        let dir = makeTempDir(self)
        let good = tsvLine("1", [0, 0, 5, 5], [1, 2, 3, 4], numBoxes: 1)
        func check(_ lines: [String], _ name: String, _ matches: @escaping (DatasetError) -> Bool) throws {
            let path = dir + "/\(name).tsv"
            try write(lines.joined(separator: "\n") + "\n", path)
            XCTAssertDatasetError(try TSVFeatureSource(path: path), name, matches)
        }
        try check([good, "2\t640\t480\t1\tAAAA"], "fields") { if case let .malformedLine(_, line, _) = $0 { return line == 2 }; return false }
        try check([good, tsvLine("2", [0, 0, 5], [1, 2, 3, 4], numBoxes: 1)], "boxes") {
            if case let .malformedLine(_, line, reason) = $0 { return line == 2 && reason.hasPrefix("boxes") }; return false
        }
        try check([good, tsvLine("2", [0, 0, 5, 5], [1, 2, 3, 4, 5, 6, 7, 8], numBoxes: 1)], "dim") {
            if case let .shapeMismatch(_, field, e, f) = $0 { return field.contains("line 2") && e.hasPrefix("4") && f == "8" }; return false
        }
        try check([good, tsvLine("2", [0, 0, 5, 5], [1, 2, 3], numBoxes: 2)], "rows") { if case .malformedLine = $0 { return true }; return false }
        try check([good, good], "dup") { if case let .invalidID(_, line, id, _) = $0 { return line == 2 && id == "1" }; return false }
        try check([good, "2\tx\t480\t1\tAAAA\tAAAA"], "int") { if case .malformedLine = $0 { return true }; return false }
        let cut = String(good.dropLast(3))
        try check([good, cut.replacingOccurrences(of: "1\t", with: "3\t", options: .anchored)], "truncated") {
            if case let .malformedLine(_, line, _) = $0 { return line == 2 }; return false
        }
        try check([], "empty") { if case .emptySource = $0 { return true }; return false }
        // Invalid base64 characters and NaN features are found by validate / item.
        let path = dir + "/values.tsv"
        let feats = b64([1, .nan, 3, 4])
        try write([good, "2\t1\t1\t1\t\(b64([0, 0, 1, 1]))\t\(feats)", "3\t1\t1\t1\t\(b64([0, 0, 1, 1]).replacingOccurrences(of: "A", with: "*"))\t\(b64([1, 2, 3, 4]))"].joined(separator: "\n"), path)
        let src = try TSVFeatureSource(path: path)
        XCTAssertNoThrow(try src.item(at: 0))
        XCTAssertDatasetError(try src.item(at: 1)) {
            if case let .nonFiniteFeature(_, image, _, region, dim, _) = $0 { return image == "2" && region == 0 && dim == 1 }; return false
        }
        XCTAssertDatasetError(try src.item(at: 2)) { if case let .malformedLine(_, line, _) = $0 { return line == 3 }; return false }
        XCTAssertDatasetError(try src.validate(expectedImgDim: 4)) { if case .nonFiniteFeature = $0 { return true }; return false }
    }

    func testBase64Decoder() {
        var rng = TestRNG(seed: 8)
        for n in 0..<20 {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let text = Array(Data(bytes).base64EncodedString().utf8)
            var out = [UInt8](repeating: 0, count: n)
            let bad = text.withUnsafeBytes { t in out.withUnsafeMutableBytes { Base64.decode(t, into: $0.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 8)!) } }
            XCTAssertNil(bad)
            XCTAssertEqual(text.withUnsafeBytes { Base64.decodedLength($0) }, n)
            XCTAssertEqual(out, bytes)
        }
        var out = [UInt8](repeating: 0, count: 3)
        let bad = Array("AB*D".utf8).withUnsafeBytes { t in out.withUnsafeMutableBytes { Base64.decode(t, into: $0.baseAddress!) } }
        XCTAssertEqual(bad, 2)
    }
}

/// Asserts that `body` throws a DatasetError matching `matches`.
func XCTAssertDatasetError<T>(_ body: @autoclosure () throws -> T, _ message: String = "", file: StaticString = #filePath, line: UInt = #line,
                              _ matches: (DatasetError) -> Bool) {
    XCTAssertThrows(DatasetError.self, try body(), message, file: file, line: line, matches)
}
