#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A per-thread cap on the cores `Parallel` splits work over (see `Parallel.withThreadLimit`). Kept
/// in thread-specific storage rather than a task local because the searches it limits run
/// synchronously on Dispatch's threads, outside any task.
enum ThreadLimit {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// The cap of the calling thread; nil when unlimited.
    static var current: Int? {
        get {
            guard let p = pthread_getspecific(key) else { return nil }
            return Int(bitPattern: p)
        }
        set {
            pthread_setspecific(key, newValue.map { UnsafeRawPointer(bitPattern: $0) } ?? nil)
        }
    }
}
