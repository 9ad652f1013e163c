import Foundation
import SCANCore

/// The original's `util/convert_data.py`: a bottom-up-attention TSV and an image id list become
/// `{split}_ims.npy`, float32 of shape (listed ids, num_boxes, feature size) in C order, rows in the
/// order of the list (a repeated id repeated, the last TSV row of an id winning, as the original's dict
/// and `np.stack` give), plus `{split}_ids.txt` with the listed ids.
///
/// The original holds the whole TSV in memory (8.8 GB for Flickr30K, 36 GB for COCO). This reads it
/// once, one line at a time, and writes each listed row straight to its place in the output, so memory
/// stays at a line and a row. The output appears under its name only when complete: it is written to
/// `{split}_ims.npy.partial` and renamed at the end; any error removes the partial file.
public struct PrecompConverter {
    public var imageIDList: String
    public var inputFile: String
    public var outputDirectory: String
    public var split: String
    public var showProgress = true

    public init(imageIDList: String, inputFile: String, outputDirectory: String, split: String) {
        self.imageIDList = imageIDList
        self.inputFile = inputFile
        self.outputDirectory = outputDirectory
        self.split = split
    }

    public struct Report: Sendable {
        public var imagesPath: String
        public var idsPath: String
        /// (listed ids, num_boxes, feature size).
        public var shape: [Int]
        public var tsvLines: Int
        /// TSV rows whose id the list does not name (skipped, their features not decoded).
        public var unlistedRows: Int
        /// Ids with more than one TSV row (the last one is used, as in the original).
        public var duplicateRows: Int
        public var seconds: Double
    }

    /// An id as the original compares it: `int(...)` of the text when it is an integer, else the text.
    static func canonicalID(_ s: Substring) -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        if let v = Int(t) { return String(v) }
        return t
    }

    public func run() throws -> Report {
        let started = ProgressReporter.now()
        let list = try CaptionFile.read(imageIDList)
        var ids: [String] = []
        var positions: [String: [Int]] = [:]
        for (i, line) in list.enumerated() {
            let id = Self.canonicalID(Substring(line))
            guard !id.isEmpty else { throw DatasetError.invalidID(file: imageIDList, line: i + 1, id: line, reason: "empty id") }
            positions[id, default: []].append(ids.count)
            ids.append(id)
        }
        guard !ids.isEmpty else { throw DatasetError.emptySource(file: imageIDList) }

        let fm = FileManager.default
        try? fm.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let finalPath = PrecompLayout.imagesPath(folder: outputDirectory, split: split)
        let partial = finalPath + ".partial"
        let idsPath = (outputDirectory as NSString).appendingPathComponent("\(split)_ids.txt")

        guard let input = fopen(inputFile, "rb") else {
            throw DatasetError.cannotOpen(file: inputFile, reason: String(cString: strerror(errno)))
        }
        defer { fclose(input) }
        var st = stat()
        let totalBytes = stat(inputFile, &st) == 0 ? Int(st.st_size) : 0
        let progress = showProgress ? ProgressReporter(label: "converting \((inputFile as NSString).lastPathComponent)", total: max(1, totalBytes / (1 << 20)), unit: "MB") : nil

        var output: Int32 = -1
        var complete = false
        defer {
            if output >= 0 { close(output) }
            if !complete { try? fm.removeItem(atPath: partial) }
        }
        var rowShape: (boxes: Int, dim: Int)?
        var dataOffset = 0
        var filled = [Bool](repeating: false, count: ids.count)
        var seenRows: [String: Int] = [:]
        var row: [Float] = []
        var lineBuffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(lineBuffer) }
        var lineNumber = 0
        var unlisted = 0, duplicates = 0
        var bytesRead = 0

        while true {
            let n = getline(&lineBuffer, &capacity, input)
            if n < 0 { break }
            lineNumber += 1
            bytesRead += n
            progress?.update(bytesRead / (1 << 20))
            guard let raw = lineBuffer else { break }
            var length = n
            let hadNewline = length > 0 && raw[length - 1] == 0x0A
            while length > 0 && (raw[length - 1] == 0x0A || raw[length - 1] == 0x0D) { length -= 1 }
            if length == 0 { continue }
            let bytes = UnsafeRawBufferPointer(start: raw, count: length)
            let fields = Self.fields(bytes)
            func text(_ r: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self) }
            if lineNumber == 1 && text(fields[0]) == "image_id" { continue }
            let truncatedHint = hadNewline ? "" : " (the last line has no newline: truncated file?)"
            guard fields.count == 6 else {
                throw DatasetError.malformedLine(file: inputFile, line: lineNumber,
                                                 reason: "expected 6 tab-separated fields (image_id, image_w, image_h, num_boxes, boxes, features), found \(fields.count)\(truncatedHint)")
            }
            let id = Self.canonicalID(Substring(text(fields[0])))
            guard let targets = positions[id] else { unlisted += 1; continue }
            if seenRows[id] != nil { duplicates += 1 }
            seenRows[id] = lineNumber
            let boxesText = text(fields[3]).trimmingCharacters(in: .whitespaces)
            guard let numBoxes = Int(boxesText), numBoxes > 0 else {
                throw DatasetError.malformedLine(file: inputFile, line: lineNumber, reason: "image \(id): num_boxes '\(boxesText)' is not a positive integer")
            }
            let featureText = UnsafeRawBufferPointer(rebasing: bytes[TSVFeatureSource.stripBytesLiteral(fields[5], bytes)])
            guard let featureBytes = Base64.decodedLength(featureText) else {
                throw DatasetError.malformedLine(file: inputFile, line: lineNumber,
                                                 reason: "image \(id): features: base64 length \(featureText.count) is not a multiple of 4\(truncatedHint)")
            }
            guard featureBytes > 0, featureBytes % (numBoxes * 4) == 0 else {
                throw DatasetError.malformedLine(file: inputFile, line: lineNumber,
                                                 reason: "image \(id): features: \(featureBytes) bytes do not hold \(numBoxes) rows of float32\(truncatedHint)")
            }
            let dim = featureBytes / (numBoxes * 4)
            if let shape = rowShape {
                guard shape.boxes == numBoxes, shape.dim == dim else {
                    throw DatasetError.shapeMismatch(file: inputFile, field: "line \(lineNumber) (image \(id)): (num_boxes, feature size)",
                                                     expected: "(\(shape.boxes), \(shape.dim)) as the first listed image", found: "(\(numBoxes), \(dim))")
                }
            } else {
                rowShape = (numBoxes, dim)
                let (count, overflow) = ids.count.multipliedReportingOverflow(by: numBoxes * dim * 4)
                guard !overflow else { throw DatasetError.badSource(path: inputFile, reason: "the output of \(ids.count) x \(numBoxes) x \(dim) floats is too large") }
                let header = NPY.header(dtype: .float32, shape: [ids.count, numBoxes, dim])
                dataOffset = header.count
                output = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                guard output >= 0 else { throw DatasetError.cannotOpen(file: partial, reason: String(cString: strerror(errno))) }
                guard ftruncate(output, off_t(header.count + count)) == 0 else {
                    throw DatasetError.cannotOpen(file: partial, reason: "cannot size it to \(header.count + count) bytes: \(String(cString: strerror(errno)))")
                }
                try header.withUnsafeBytes { try Self.writeAll(output, $0, at: 0, path: partial) }
                row = [Float](repeating: 0, count: numBoxes * dim)
            }
            if let bad = row.withUnsafeMutableBytes({ Base64.decode(featureText, into: $0.baseAddress!) }) {
                throw DatasetError.malformedLine(file: inputFile, line: lineNumber, reason: "image \(id): features: invalid base64 character at offset \(bad)\(truncatedHint)")
            }
            let rowBytes = row.count * 4
            for k in targets {
                try row.withUnsafeBytes { try Self.writeAll(output, $0, at: dataOffset + k * rowBytes, path: partial) }
                filled[k] = true
            }
        }
        if ferror(input) != 0 { throw DatasetError.cannotOpen(file: inputFile, reason: "read error after line \(lineNumber)") }
        let missing = ids.indices.filter { !filled[$0] }.map { ids[$0] }
        guard missing.isEmpty else {
            let shown = Array(Set(missing)).sorted().prefix(10).joined(separator: ", ")
            throw DatasetError.badSource(path: inputFile,
                                         reason: "\(Set(missing).count) id(s) of \(imageIDList) have no row in the TSV: \(shown)\(Set(missing).count > 10 ? ", ..." : "")")
        }
        guard let shape = rowShape else { throw DatasetError.emptySource(file: inputFile) }
        guard fsync(output) == 0 else { throw DatasetError.cannotOpen(file: partial, reason: "fsync: \(String(cString: strerror(errno)))") }
        close(output)
        output = -1
        guard rename(partial, finalPath) == 0 else {
            throw DatasetError.cannotOpen(file: finalPath, reason: "rename from \(partial): \(String(cString: strerror(errno)))")
        }
        complete = true
        progress?.finish()
        // The ids file is the list as read (it may be the list itself: then it is left as it is).
        if (idsPath as NSString).standardizingPath != (imageIDList as NSString).standardizingPath {
            try (list.joined(separator: "\n") + "\n").write(toFile: idsPath, atomically: true, encoding: .utf8)
        }
        return Report(imagesPath: finalPath, idsPath: idsPath, shape: [ids.count, shape.boxes, shape.dim], tsvLines: lineNumber,
                      unlistedRows: unlisted, duplicateRows: duplicates, seconds: ProgressReporter.now() - started)
    }

    /// The tab-separated fields of a line (at most 6; the sixth runs to the end).
    static func fields(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x09 && out.count < 5 {
            out.append(start..<i)
            start = i + 1
        }
        out.append(start..<bytes.count)
        return out
    }

    static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer, at offset: Int, path: String) throws {
        var done = 0
        while done < data.count {
            let w = pwrite(fd, data.baseAddress! + done, data.count - done, off_t(offset + done))
            if w < 0 {
                if errno == EINTR { continue }
                throw DatasetError.cannotOpen(file: path, reason: "write failed: \(String(cString: strerror(errno)))")
            }
            done += w
        }
    }
}
