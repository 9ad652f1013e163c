/// An image left out of a result because one of its records failed its checks.
public struct SkippedImage: Sendable, Equatable, Hashable {
    /// The external id, nil when the metadata record itself is unreadable.
    public var id: String?
    public var key: UInt64
    /// The database and what failed ("regions: checksum mismatch: ...").
    public var reason: String

    public init(id: String?, key: UInt64, reason: String) {
        self.id = id; self.key = key; self.reason = reason
    }
}
