/// A container or rebuilt object of an unpickled checkpoint.
public enum PickleObject: Sendable {
    case list([PickleValue])
    case tuple([PickleValue])
    /// A dict or `collections.OrderedDict` in insertion order.
    case dict(PickleDict)
    /// An `argparse.Namespace`: its attributes in the order they were set.
    case namespace(PickleDict)
    case tensor(TorchTensorRef)
    case storage(TorchStorageRef)
}
