import Foundation

/// A read-only memory map of a whole file. Large feature files are mapped, never read into memory.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw FormatError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw FormatError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        count = Int(st.st_size)
        if count == 0 { base = nil; return }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        if p == MAP_FAILED || p == nil { throw FormatError.cannotOpen(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))") }
        base = p
    }

    deinit { if let base { munmap(base, count) } }

    /// The mapped bytes, valid while this object lives: a caller holding only `bytes` must keep the
    /// object alive (`withBytes`), since Swift may release a local after its last use and unmap them.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: count) }

    /// Runs `body` with the mapped bytes, the map kept alive until it returns.
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withExtendedLifetime(self) { try body(bytes) }
    }
}
