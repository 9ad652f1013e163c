import Foundation
import SCANCore

/// A bottom-up-attention TSV (`generate_tsv.py`): one image per line with the tab-separated columns
/// image_id, image_w, image_h, num_boxes, boxes, features, where boxes and features are base64 of
/// little-endian float32 arrays of shape (num_boxes, 4) and (num_boxes, img_dim). A header line
/// starting with "image_id" and blank lines are skipped; fields written as Python bytes literals
/// (`b'...'`) are accepted. The file is memory-mapped; boxes are kept.
public final class TSVFeatureSource: FeatureSource {
    public let path: String
    public let imgDim: Int
    private let mapped: MappedFile
    private let lines: [Line]

    struct Line {
        var number: Int
        var id: String
        var width: Int
        var height: Int
        var numBoxes: Int
        var boxes: Range<Int>
        var features: Range<Int>
    }

    public var sourceDescription: String { path }
    public var count: Int { lines.count }

    /// Maps the file and checks every line's fields and the sizes of its base64 arrays.
    public init(path: String) throws {
        self.path = path
        do { mapped = try MappedFile(path: path) } catch { throw DatasetError.from(error, file: path) }
        let bytes = mapped.bytes
        var parsed: [Line] = []
        var dim = -1
        var start = 0
        var number = 0
        while start < bytes.count {
            let base = bytes.baseAddress!
            let end = memchr(base + start, 0x0A, bytes.count - start).map { UnsafeRawPointer($0) - base } ?? bytes.count
            number += 1
            var e = end
            if e > start && bytes[e - 1] == 0x0D { e -= 1 }
            defer { start = end + 1 }
            if e == start { continue }
            // Split into fields.
            var fields: [Range<Int>] = []
            var f = start
            while fields.count < 6, let tab = memchr(base + f, 0x09, e - f) {
                let i = UnsafeRawPointer(tab) - base
                fields.append(f..<i)
                f = i + 1
            }
            fields.append(f..<e)
            func text(_ r: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self) }
            if parsed.isEmpty && dim < 0 && text(fields[0]) == "image_id" { continue }
            guard fields.count == 6 else {
                throw DatasetError.malformedLine(file: path, line: number, reason: "expected 6 tab-separated fields (image_id, image_w, image_h, num_boxes, boxes, features), found \(fields.count)")
            }
            func int(_ k: Int, _ name: String) throws -> Int {
                let s = text(fields[k]).trimmingCharacters(in: .whitespaces)
                if let v = Int(s) { return v }
                if let d = Double(s), d == d.rounded(), abs(d) < 1e15 { return Int(d) }
                throw DatasetError.malformedLine(file: path, line: number, reason: "\(name) '\(s)' is not an integer")
            }
            let id = text(fields[0])
            let w = try int(1, "image_w"), h = try int(2, "image_h"), nb = try int(3, "num_boxes")
            guard nb > 0 else { throw DatasetError.malformedLine(file: path, line: number, reason: "num_boxes is \(nb)") }
            let boxes = TSVFeatureSource.stripBytesLiteral(fields[4], bytes)
            let feats = TSVFeatureSource.stripBytesLiteral(fields[5], bytes)
            guard let boxBytes = Base64.decodedLength(UnsafeRawBufferPointer(rebasing: bytes[boxes])) else {
                throw DatasetError.malformedLine(file: path, line: number, reason: "boxes: base64 length \(boxes.count) is not a multiple of 4 (truncated?)")
            }
            // Divided, not multiplied: num_boxes is read from the line and nb * 16 may overflow.
            guard boxBytes % 16 == 0, boxBytes / 16 == nb else {
                throw DatasetError.malformedLine(file: path, line: number, reason: "boxes: expected \(nb) x 4 float32 (16 bytes each), found \(boxBytes) bytes")
            }
            guard let featBytes = Base64.decodedLength(UnsafeRawBufferPointer(rebasing: bytes[feats])) else {
                throw DatasetError.malformedLine(file: path, line: number, reason: "features: base64 length \(feats.count) is not a multiple of 4 (truncated?)")
            }
            guard featBytes > 0, featBytes % (nb * 4) == 0 else {
                throw DatasetError.malformedLine(file: path, line: number, reason: "features: \(featBytes) bytes do not hold \(nb) rows of float32")
            }
            let d = featBytes / (nb * 4)
            if dim < 0 { dim = d } else if d != dim {
                throw DatasetError.shapeMismatch(file: path, field: "line \(number): feature dim (img_dim)", expected: "\(dim) (as on the first line)", found: "\(d)")
            }
            parsed.append(Line(number: number, id: id, width: w, height: h, numBoxes: nb, boxes: boxes, features: feats))
        }
        guard !parsed.isEmpty else { throw DatasetError.emptySource(file: path) }
        try SourceSupport.checkIDs(parsed.map(\.id), file: path, lineOf: { parsed[$0].number })
        lines = parsed
        imgDim = dim
    }

    /// Drops a Python `b'...'` wrapper around a field.
    static func stripBytesLiteral(_ r: Range<Int>, _ bytes: UnsafeRawBufferPointer) -> Range<Int> {
        if r.count >= 3 && bytes[r.lowerBound] == UInt8(ascii: "b") && bytes[r.lowerBound + 1] == UInt8(ascii: "'")
            && bytes[r.upperBound - 1] == UInt8(ascii: "'") {
            return (r.lowerBound + 2)..<(r.upperBound - 1)
        }
        return r
    }

    public func id(at index: Int) -> String { lines[index].id }

    private func decodeFloats(_ r: Range<Int>, count n: Int, line: Line, field: String) throws -> [Float] {
        var out = [Float](repeating: 0, count: n)
        let text = UnsafeRawBufferPointer(rebasing: mapped.bytes[r])
        if let bad = out.withUnsafeMutableBytes({ Base64.decode(text, into: $0.baseAddress!) }) {
            throw DatasetError.malformedLine(file: path, line: line.number, reason: "\(field): invalid base64 character at offset \(bad)")
        }
        return out
    }

    public func item(at index: Int) throws -> FeatureItem {
        let line = lines[index]
        let boxes = try decodeFloats(line.boxes, count: line.numBoxes * 4, line: line, field: "boxes")
        let feats = Tensor(shape: [line.numBoxes, imgDim], data: try decodeFloats(line.features, count: line.numBoxes * imgDim, line: line, field: "features"))
        try SourceSupport.checkFinite(feats, file: path, record: line.id)
        if let i = boxes.withUnsafeBufferPointer({ SourceSupport.firstNonFinite($0) }) {
            throw DatasetError.nonFiniteValue(file: path, record: line.id, field: "boxes", index: i)
        }
        return FeatureItem(id: line.id, source: sourceDescription, features: feats, boxes: boxes,
                           imageWidth: line.width, imageHeight: line.height)
    }

    public func checkValues() throws {
        var errors = [Error?](repeating: nil, count: count)
        errors.withUnsafeMutableBufferPointer { errs in
            Parallel.forEach(count) { i in
                do { _ = try self.item(at: i) } catch { errs[i] = error }
            }
        }
        if let e = errors.first(where: { $0 != nil }) { throw e! }
    }
}
