import Foundation

/// `world.json`: what a demo world is (synthetic!), how it was made, and the ground truth of every
/// test image, so that tools can judge search results against it.
public struct DemoWorldManifest: Codable, Equatable, Sendable {
    public static let fileName = "world.json"
    public static let currentFormat = "scan-demo-world/1"
    public static let notice = """
        SYNTHETIC DATA. This is not Flickr30K or MS-COCO: the region features are made from random \
        concept prototypes (no photograph was involved) and the captions come from templates. It exists \
        so that the pipeline can be demonstrated without downloading anything; results on it say nothing \
        about real image-text matching.
        """

    /// The feature recipe's constants.
    public struct FeatureSettings: Codable, Equatable, Sendable {
        public var prototypeNonZeros: Int
        public var categoryWeight: Float
        public var attributeWeight: Float
        public var actionWeight: Float
        public var jitter: Float
        public var noiseProbability: Double
        public var noiseScale: Float
    }

    public struct SplitSummary: Codable, Equatable, Sendable {
        public var name: String
        public var images: Int
        public var captions: Int
        public var pairs: Int
    }

    public struct Concepts: Codable, Equatable, Sendable {
        public var objects: [DemoWorldConcept]
        public var attributes: [DemoWorldConcept]
        public var scenes: [DemoWorldConcept]
        public var actions: [DemoWorldConcept]
    }

    public var synthetic: Bool
    public var notice: String
    public var format: String
    public var options: DemoWorldOptions
    public var features: FeatureSettings
    public var files: [String]
    public var vocabularySize: Int
    public var splits: [SplitSummary]
    public var concepts: Concepts
    /// Ground truth of the test images by row of `test_ims.npy`; captions `5*row ..< 5*row+5` of
    /// `test_caps.txt` describe row `row`.
    public var testImages: [DemoWorldImage]

    public init(options: DemoWorldOptions, features: FeatureSettings, files: [String], vocabularySize: Int,
                splits: [SplitSummary], concepts: Concepts, testImages: [DemoWorldImage]) {
        synthetic = true
        notice = Self.notice
        format = Self.currentFormat
        self.options = options
        self.features = features
        self.files = files
        self.vocabularySize = vocabularySize
        self.splits = splits
        self.concepts = concepts
        self.testImages = testImages
    }

    /// The JSON text: the top-level keys in a fixed order (what the data are first), one line per
    /// concept kind, split and test image; snake_case keys, sorted within each value. The same world
    /// gives the same bytes.
    public func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        func lines<T: Encodable>(_ values: [T], indent: String) throws -> String {
            values.isEmpty ? "[]" : "[\n" + (try values.map { indent + "  " + (try json($0)) }).joined(separator: ",\n") + "\n" + indent + "]"
        }
        var out = "{\n"
        out += "  \"synthetic\": \(try json(synthetic)),\n"
        out += "  \"notice\": \(try json(notice)),\n"
        out += "  \"format\": \(try json(format)),\n"
        out += "  \"options\": \(try json(options)),\n"
        out += "  \"features\": \(try json(features)),\n"
        out += "  \"files\": \(try json(files)),\n"
        out += "  \"vocabulary_size\": \(vocabularySize),\n"
        out += "  \"splits\": \(try lines(splits, indent: "  ")),\n"
        out += "  \"concepts\": {\n"
        out += "    \"objects\": \(try lines(concepts.objects, indent: "    ")),\n"
        out += "    \"attributes\": \(try lines(concepts.attributes, indent: "    ")),\n"
        out += "    \"scenes\": \(try lines(concepts.scenes, indent: "    ")),\n"
        out += "    \"actions\": \(try lines(concepts.actions, indent: "    "))\n"
        out += "  },\n"
        out += "  \"test_images\": \(try lines(testImages, indent: "  "))\n"
        out += "}\n"
        return Array(out.utf8)
    }

    public static func read(from path: String) throws -> DemoWorldManifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(DemoWorldManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
