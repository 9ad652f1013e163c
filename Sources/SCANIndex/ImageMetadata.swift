import Foundation

/// The per-image metadata stored in the `metadata` database: a checksummed frame around JSON.
///
/// Frame: magic "SCNM" (4), version u8 = 1, 3 zero bytes, checksum u64 = XXH64(JSON, seed: XXH64(bytes 0..<8)), the JSON.
public struct ImageMetadata: Codable, Equatable, Sendable {
    public var id: String
    public var source: String
    public var captions: [String]
    /// n x 4 box coordinates (x1, y1, x2, y2) when the source has them.
    public var boxes: [Float]?
    public var imageWidth: Int?
    public var imageHeight: Int?

    enum CodingKeys: String, CodingKey {
        case id, source, captions, boxes
        case imageWidth = "image_width", imageHeight = "image_height"
    }

    public init(id: String, source: String, captions: [String] = [], boxes: [Float]? = nil,
                imageWidth: Int? = nil, imageHeight: Int? = nil) {
        self.id = id
        self.source = source
        self.captions = captions
        self.boxes = boxes
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }

    static let magic: [UInt8] = Array("SCNM".utf8)
    static let headerSize = 16

    /// The framed, checksummed value.
    public func encoded() throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let json: Data
        do { json = try enc.encode(self) } catch {
            throw IndexError.invalidRecord(record: id, field: "metadata", expected: "JSON-encodable values", found: "\(error)")
        }
        var out = ImageMetadata.magic + [1, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        out.append(contentsOf: json)
        let sum = out.withUnsafeBytes { b in
            XXH64.checksum(head: UnsafeRawBufferPointer(rebasing: b[0..<8]), body: UnsafeRawBufferPointer(rebasing: b[ImageMetadata.headerSize...]))
        }
        withUnsafeBytes(of: sum.littleEndian) { for i in 0..<8 { out[8 + i] = $0[i] } }
        return out
    }

    /// Checks and parses a stored value.
    public static func decode(_ value: UnsafeRawBufferPointer, database: String = "metadata", key: String = "") throws -> ImageMetadata {
        func corrupt(_ reason: String) -> IndexError { .corruptRecord(database: database, key: key, reason: reason) }
        guard value.count >= headerSize else { throw corrupt("value is \(value.count) bytes, shorter than the \(headerSize)-byte header") }
        guard Array(value[0..<4]) == magic else { throw corrupt("bad magic") }
        guard value[4] == 1, value[5] == 0, value[6] == 0, value[7] == 0 else { throw corrupt("unknown version \(value[4])") }
        let stored = UInt64(littleEndian: value.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let computed = XXH64.checksum(head: UnsafeRawBufferPointer(rebasing: value[0..<8]),
                                      body: UnsafeRawBufferPointer(rebasing: value[headerSize...]))
        guard stored == computed else {
            throw corrupt("checksum mismatch: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))")
        }
        do {
            return try JSONDecoder().decode(ImageMetadata.self, from: Data(UnsafeRawBufferPointer(rebasing: value[headerSize...])))
        } catch {
            throw corrupt("metadata JSON does not parse: \(error)")
        }
    }
}
