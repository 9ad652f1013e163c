/// An insertion-ordered dict with Python's "last assignment wins" for repeated keys.
public struct PickleDict: Sendable {
    public private(set) var keys: [PickleValue] = []
    public private(set) var values: [PickleValue] = []
    private var index: [PickleValue: Int] = [:]

    public init() {}

    public var count: Int { keys.count }

    public subscript(key: PickleValue) -> PickleValue? {
        get { index[key].map { values[$0] } }
        set {
            guard let newValue else { return }
            if let i = index[key] { values[i] = newValue; return }
            index[key] = keys.count
            keys.append(key)
            values.append(newValue)
        }
    }

    public subscript(string key: String) -> PickleValue? { self[.string(key)] }

    public var pairs: Zip2Sequence<[PickleValue], [PickleValue]> { zip(keys, values) }
}
