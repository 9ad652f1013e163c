import Foundation

/// A file written under a temporary name next to its destination and renamed over it once complete,
/// so that a reader never sees a partial file (an interrupted run leaves the old file, or none, and a
/// hidden `.partial` file that the next run replaces).
public final class DemoWorldFileWriter {
    public let path: String
    public let temporaryPath: String
    public private(set) var bytesWritten = 0
    private var file: UnsafeMutablePointer<FILE>?
    private var committed = false

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporaryPath = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())").path
        guard let f = fopen(temporaryPath, "wb") else {
            throw DemoWorldError.writeFailed(path: temporaryPath, reason: String(cString: strerror(errno)))
        }
        file = f
    }

    deinit { if !committed { discard() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let file else { throw DemoWorldError.writeFailed(path: path, reason: "already closed") }
        guard bytes.count > 0 else { return }
        if fwrite(bytes.baseAddress!, 1, bytes.count, file) != bytes.count {
            throw DemoWorldError.writeFailed(path: temporaryPath, reason: String(cString: strerror(errno)))
        }
        bytesWritten += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Closes the file and renames it to `path`.
    public func commit() throws {
        guard let f = file else { throw DemoWorldError.writeFailed(path: path, reason: "already closed") }
        file = nil
        if fclose(f) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw DemoWorldError.writeFailed(path: temporaryPath, reason: reason)
        }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw DemoWorldError.writeFailed(path: path, reason: reason)
        }
        committed = true
    }

    /// Closes and removes the temporary file; `path` is left as it was.
    public func discard() {
        if let f = file { fclose(f) }
        file = nil
        unlink(temporaryPath)
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let writer = try DemoWorldFileWriter(path: path)
        try writer.write(bytes)
        try writer.commit()
    }
}
