/// The zip container of torch >= 1.6 checkpoints, read without decompression: torch stores every
/// record uncompressed. Anything else (a compressed or encrypted entry, zip64, an entry whose local
/// header disagrees with the central directory, a CRC mismatch, overlapping bounds) is refused with a
/// typed error naming the entry.
struct StoredZipArchive {
    struct Entry {
        let name: String
        let dataOffset: Int
        let size: Int
        let crc: UInt32
    }

    let file: String
    let bytes: UnsafeRawBufferPointer
    private(set) var entries: [String: Entry] = [:]
    private(set) var names: [String] = []

    static func looksLikeZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4b && bytes[2] == 0x03 && bytes[3] == 0x04
    }

    init(bytes: UnsafeRawBufferPointer, file: String) throws {
        self.bytes = bytes
        self.file = file
        func bad(_ entry: String, _ reason: String) -> CheckpointError { .badZip(file: file, entry: entry, reason: reason) }

        // End of central directory: 22 bytes plus a comment of up to 65535, searched from the end.
        let eocdSize = 22
        guard bytes.count >= eocdSize else { throw bad("", "\(bytes.count) bytes cannot hold an end-of-central-directory record") }
        var eocd = -1
        var p = bytes.count - eocdSize
        let lowest = max(0, bytes.count - eocdSize - 65535)
        while p >= lowest {
            if bytes[p] == 0x50, bytes[p + 1] == 0x4b, bytes[p + 2] == 0x05, bytes[p + 3] == 0x06 { eocd = p; break }
            p -= 1
        }
        guard eocd >= 0 else { throw bad("", "no end-of-central-directory record (truncated?)") }
        var r = ByteReader(bytes: bytes, offset: eocd + 4, file: file)
        let disk = try r.uint(2, "zip disk number"), cdDisk = try r.uint(2, "zip central directory disk")
        let countHere = try r.uint(2, "zip entry count"), countAll = try r.uint(2, "zip entry count")
        let cdSize = try r.uint(4, "zip central directory size"), cdOffset = try r.uint(4, "zip central directory offset")
        guard disk == 0, cdDisk == 0, countHere == countAll else { throw bad("", "a multi-disk archive") }
        guard countAll != 0xFFFF, cdSize != 0xFFFF_FFFF, cdOffset != 0xFFFF_FFFF else {
            throw bad("", "a zip64 archive (over 4 GiB or 65535 entries) is not supported")
        }
        guard cdOffset <= UInt64(eocd), cdSize <= UInt64(eocd) - cdOffset else {
            throw bad("", "the central directory (offset \(cdOffset), \(cdSize) bytes) lies outside the file")
        }

        var c = ByteReader(bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<(Int(cdOffset) + Int(cdSize))]), offset: Int(cdOffset), file: file)
        for _ in 0..<Int(countAll) {
            guard try c.uint(4, "zip central directory entry") == 0x0201_4b50 else { throw bad("", "a central directory entry has a wrong signature") }
            _ = try c.take(4, "zip versions")
            let flags = try c.uint(2, "zip flags"), method = try c.uint(2, "zip method")
            _ = try c.take(4, "zip time")
            let crc = UInt32(try c.uint(4, "zip crc"))
            let csize = try c.uint(4, "zip compressed size"), usize = try c.uint(4, "zip size")
            let nameLen = Int(try c.uint(2, "zip name length")), extraLen = Int(try c.uint(2, "zip extra length"))
            let commentLen = Int(try c.uint(2, "zip comment length"))
            _ = try c.take(8, "zip attributes")
            let localOffset = try c.uint(4, "zip local header offset")
            let nameBytes = try c.take(nameLen, "zip entry name")
            _ = try c.take(extraLen, "zip extra field")
            _ = try c.take(commentLen, "zip comment")
            let name = String(String.UnicodeScalarView(nameBytes.map { Unicode.Scalar($0) }))
            guard flags & 1 == 0 else { throw bad(name, "encrypted") }
            guard method == 0 else { throw bad(name, "compressed (method \(method)); torch stores records uncompressed") }
            guard csize == usize else { throw bad(name, "stored with \(csize) bytes for \(usize) bytes of content") }
            guard usize != 0xFFFF_FFFF, localOffset != 0xFFFF_FFFF else { throw bad(name, "zip64 sizes are not supported") }
            guard entries[name] == nil else { throw bad(name, "appears twice") }

            // The local header must agree; its data follows the name and extra field.
            var l = ByteReader(bytes: bytes, offset: Int(localOffset), file: file)
            guard localOffset < cdOffset, try l.uint(4, "zip local header") == 0x0403_4b50 else {
                throw bad(name, "no local header at offset \(localOffset)")
            }
            _ = try l.take(2, "zip version")
            let lflags = try l.uint(2, "zip flags"), lmethod = try l.uint(2, "zip method")
            _ = try l.take(4, "zip time")
            let lcrc = UInt32(try l.uint(4, "zip crc"))
            let lcsize = try l.uint(4, "zip size"), lusize = try l.uint(4, "zip size")
            let lnameLen = Int(try l.uint(2, "zip name length")), lextraLen = Int(try l.uint(2, "zip extra length"))
            let lname = try l.take(lnameLen, "zip entry name")
            _ = try l.take(lextraLen, "zip extra field")
            guard lmethod == method, lname.elementsEqual(nameBytes) else { throw bad(name, "the local header disagrees with the central directory") }
            if lflags & 8 == 0 {
                guard lcrc == crc, lcsize == csize, lusize == usize else { throw bad(name, "the local header's sizes or CRC disagree with the central directory") }
            }
            let start = l.offset
            guard UInt64(start) + usize <= cdOffset else {
                throw CheckpointError.truncated(file: file, what: "zip entry \(name)", offset: start, needed: Int(usize), available: max(0, Int(cdOffset) - start))
            }
            entries[name] = Entry(name: name, dataOffset: start, size: Int(usize), crc: crc)
            names.append(name)
        }
    }

    /// The bytes of an entry, after checking its CRC.
    func data(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let e = entries[name] else { throw CheckpointError.badZip(file: file, entry: name, reason: "missing") }
        let b = UnsafeRawBufferPointer(rebasing: bytes[e.dataOffset..<(e.dataOffset + e.size)])
        let crc = CRC32.checksum(b)
        guard crc == e.crc else {
            throw CheckpointError.badZip(file: file, entry: name, reason: "CRC-32 \(String(crc, radix: 16)) differs from the recorded \(String(e.crc, radix: 16)) (corrupt)")
        }
        return b
    }
}
