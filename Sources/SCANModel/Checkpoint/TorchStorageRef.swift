/// A storage named by a checkpoint's persistent id: its key, element type and element count, and,
/// for a legacy view (torch 0.3's `view_metadata`), the window of the root storage it covers.
public struct TorchStorageRef: Hashable, Sendable {
    public var key: String
    public var dtype: TorchDType
    /// Elements of the root storage as declared in the persistent id.
    public var rootCount: Int
    /// Offset (elements) and count of the window the tensor sees; the whole root without a view.
    public var viewOffset: Int
    public var viewCount: Int
}
