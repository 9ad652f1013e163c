import Foundation
import SCANModel

/// The golden vectors produced by running the original implementation (see the folder's README).
/// Tests take the folder from `SCAN_REFERENCE_DIR`, default `../shared/fixtures/reference`
/// relative to the package root, and run every case found there.
public enum ReferenceFixtures {
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["SCAN_REFERENCE_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env, relativeTo: packageRoot).standardizedFileURL
        }
        return packageRoot.appendingPathComponent("../shared/fixtures/reference").standardizedFileURL
    }

    /// Every case (a `NAME.safetensors` with its `NAME.json`), optionally of the given kinds.
    public static func cases(kinds: Set<String>? = nil) throws -> [ReferenceCase] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        var out: [ReferenceCase] = []
        for f in files {
            let stem = String(f.dropLast(".safetensors".count))
            let jsonPath = directory.appendingPathComponent(stem + ".json").path
            guard FileManager.default.fileExists(atPath: jsonPath) else { continue }
            let c = try ReferenceCase(directory: directory, name: stem)
            if let kinds, !kinds.contains(c.kind) { continue }
            out.append(c)
        }
        return out
    }
}

/// One reference case: its JSON description and its tensors.
public struct ReferenceCase {
    public let name: String
    public let kind: String
    public let json: JSONValue
    public let tensors: SafetensorsFile
    public let directory: URL

    public init(directory: URL, name: String) throws {
        self.directory = directory
        self.name = name
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".json"))
        json = try JSONValue.parse(data)
        kind = json["kind"]?.string ?? "?"
        tensors = try SafetensorsFile(path: directory.appendingPathComponent(name + ".safetensors").path)
    }

    /// The model configuration of a model-kind case (`options` plus `dims`).
    public func config() throws -> ModelConfig {
        var opts = json["options"]?.object ?? [:]
        if let dims = json["dims"]?.object {
            for k in ["vocab_size", "embed_size", "word_dim", "img_dim"] where opts[k] == nil { opts[k] = dims[k] }
        }
        return try ModelConfig(json: opts, file: name + ".json")
    }

    /// The weights stored in the case (names without a `grad.` / `after.` prefix).
    public func parameters(prefix: String = "") throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for n in tensors.names where n.hasPrefix(prefix + "img_enc.") || n.hasPrefix(prefix + "txt_enc.") {
            out[String(n.dropFirst(prefix.count))] = try tensors.tensor(n)
        }
        return out
    }

    public func model() throws -> SCAN {
        try SCAN(config: config(), parameters: parameters(), file: name)
    }

    /// Captions as id lists, cut to their lengths (the padded `captions` tensor + `lengths`).
    public func captions(suffix: String = "") throws -> [[Int]] {
        let ids = try tensors.ints("captions" + suffix)
        let shape = try tensors.shape("captions" + suffix)
        let lengths = try tensors.ints("lengths" + suffix)
        return (0..<shape[0]).map { i in Array(ids[(i * shape[1])..<(i * shape[1] + lengths[i])]) }
    }
}

/// Comparison helpers with the tolerances of the fixtures' README.
public enum Tolerance {
    /// max |a - b|
    public static func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
        var m = 0.0
        for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
        return m
    }

    public static func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }
}
