/// The three splits of the precomp layout, in the order they are written.
public enum DemoWorldSplit: String, CaseIterable, Codable, Sendable {
    case train, dev, test

    /// Number mixed into the random streams of the split.
    var streamID: UInt64 {
        switch self {
        case .train: return 1
        case .dev: return 2
        case .test: return 3
        }
    }
}
