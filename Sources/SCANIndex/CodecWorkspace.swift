import CZstd
import Foundation

/// Reusable zstd contexts and scratch buffers for the record codec, kept in a small pool so that
/// concurrent encoders/decoders each get their own without allocating per record.
final class CodecWorkspace {
    private(set) var cctx: OpaquePointer?
    private(set) var dctx: OpaquePointer?
    private var a: UnsafeMutableRawPointer?
    private var aCapacity = 0
    private var b: UnsafeMutableRawPointer?
    private var bCapacity = 0

    deinit {
        if let cctx { ZSTD_freeCCtx(cctx) }
        if let dctx { ZSTD_freeDCtx(dctx) }
        a?.deallocate()
        b?.deallocate()
    }

    func compressionContext() -> OpaquePointer {
        if cctx == nil { cctx = ZSTD_createCCtx() }
        return cctx!
    }

    func decompressionContext() -> OpaquePointer {
        if dctx == nil { dctx = ZSTD_createDCtx() }
        return dctx!
    }

    /// Scratch buffer A of at least `bytes` bytes (contents are not preserved when it grows).
    func scratchA(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > aCapacity || a == nil {
            a?.deallocate()
            aCapacity = max(bytes, 4096)
            a = UnsafeMutableRawPointer.allocate(byteCount: aCapacity, alignment: 64)
        }
        return a!
    }

    /// Scratch buffer B, independent of A.
    func scratchB(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > bCapacity || b == nil {
            b?.deallocate()
            bCapacity = max(bytes, 4096)
            b = UnsafeMutableRawPointer.allocate(byteCount: bCapacity, alignment: 64)
        }
        return b!
    }

    private static let poolLock = NSLock()
    private static var pool: [CodecWorkspace] = []
    private static let maxPooled = 16
    /// Buffers above this size are not kept in the pool.
    private static let maxPooledBytes = 64 << 20

    /// Runs `body` with a workspace taken from the pool (or a new one) and returns it afterwards.
    static func with<T>(_ body: (CodecWorkspace) throws -> T) rethrows -> T {
        poolLock.lock()
        let ws = pool.popLast() ?? CodecWorkspace()
        poolLock.unlock()
        defer {
            if ws.aCapacity + ws.bCapacity <= maxPooledBytes {
                poolLock.lock()
                if pool.count < maxPooled { pool.append(ws) }
                poolLock.unlock()
            }
        }
        return try body(ws)
    }
}
