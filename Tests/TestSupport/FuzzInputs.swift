import Foundation

/// The committed inputs of a fuzz target (Tools/fuzz): its seed corpus and the regressions (inputs that
/// once crashed a parser). The replay tests feed each to the target's parser and expect a value or a
/// typed error; a trap fails the whole test run, which is the point.
public enum FuzzInputs {
    public static var directory: URL { ReferenceFixtures.packageRoot.appendingPathComponent("Tools/fuzz") }

    public struct Input {
        public let name: String
        public let bytes: [UInt8]
        /// true for a regression (an input that once trapped), false for a seed.
        public let isRegression: Bool
    }

    /// Seeds then regressions, by file name. Throws when the target has no seeds (a missing corpus is
    /// a failure, never a silent pass).
    public static func inputs(_ target: String) throws -> [Input] {
        var all: [Input] = []
        for (folder, regression) in [("corpus", false), ("regressions", true)] {
            let dir = directory.appendingPathComponent(folder).appendingPathComponent(target)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            for name in names {
                let data = try Data(contentsOf: dir.appendingPathComponent(name))
                all.append(Input(name: "\(folder)/\(target)/\(name)", bytes: [UInt8](data), isRegression: regression))
            }
        }
        guard all.contains(where: { !$0.isRegression }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: directory.appendingPathComponent("corpus/\(target)").path])
        }
        return all
    }
}
