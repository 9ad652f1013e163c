// Shared by every fuzz target (linked into each). A target feeds libFuzzer's bytes to one parser;
// a parsed value or an error of the project's own types is fine, anything else is a finding:
// a Swift trap (overflow, out-of-range index, force unwrap) or an AddressSanitizer report crashes the
// process, and an untyped error (a raw Foundation error leaking out) is turned into a crash here.
import Foundation

/// Runs `body`; an error that `isTyped` refuses stops the process with its description.
@inline(never)
func expectTypedError(_ target: String, _ isTyped: (Error) -> Bool, _ body: () throws -> Void) {
    do { try body() } catch {
        if !isTyped(error) { fatalError("\(target): untyped error \(type(of: error)): \(error)") }
    }
}

/// The bytes as a file on tmpfs (for readers whose public surface is a path and a memory map).
/// One file per process, rewritten for every input.
func withScratchFile<R>(_ bytes: UnsafeRawBufferPointer, name: String, _ body: (String) throws -> R) rethrows -> R {
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let path = "\(dir)/scan-fuzz-\(getpid())-\(name)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot create \(path)")
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        precondition(n > 0, "cannot write \(path)")
        done += n
    }
    close(fd)
    defer { unlink(path) }
    return try body(path)
}

/// The bytes of a fuzz input after its `skip` control bytes, as a stored record value. When `patch`
/// (the targets use bit 0 of byte 0) and the value holds a `headerSize`-byte header, the right
/// checksum is written into bytes 24..<32, so that the fuzzer gets past the checksum into what it
/// guards, as a bug in a writer would.
func recordValue(_ data: UnsafePointer<UInt8>, _ size: Int, skip: Int, patch: Bool, headerSize: Int,
                 checksum: (UnsafeRawBufferPointer) -> UInt64) -> [UInt8] {
    var value = Array(UnsafeRawBufferPointer(start: data + skip, count: size - skip))
    if patch && value.count >= headerSize {
        value.withUnsafeMutableBytes { v in
            let sum = checksum(UnsafeRawBufferPointer(v))
            v.storeBytes(of: sum.littleEndian, toByteOffset: 24, as: UInt64.self)
        }
    }
    return value
}
