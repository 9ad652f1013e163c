/// A tensor rebuilt by `_rebuild_tensor(_v2)`: a strided window of a storage. Its data is read only
/// when the tensor is materialised, after every bound has been checked.
public struct TorchTensorRef: Sendable {
    public var storage: TorchStorageRef
    public var offset: Int
    public var shape: [Int]
    public var stride: [Int]
}
