import SCANIndex
import SCANSearch

/// The answer to one query: `results` exactly as `scan-search --json` prints them (rank, id, score,
/// captions), then what a service adds: the settings used, the unknown words and their warning, the
/// images skipped as corrupt, the snapshot's image count and the stage times.
public struct SearchResponse: Codable, Sendable, Equatable {
    public struct Result: Codable, Sendable, Equatable {
        public var rank: Int
        public var id: String
        public var score: Float
        public var captions: [String]
    }

    public struct Skipped: Codable, Sendable, Equatable {
        public var id: String?
        public var key: UInt64
        public var reason: String
    }

    public struct Timings: Codable, Sendable, Equatable {
        public var encode: Double
        public var firstStage: Double
        public var rerank: Double
        public var total: Double

        enum CodingKeys: String, CodingKey {
            case encode, firstStage = "first_stage", rerank, total
        }
    }

    public var query: String
    public var results: [Result]
    public var mode: String
    public var top: Int
    public var candidates: Int
    public var unknownWords: [String]
    public var warning: String?
    public var skipped: [Skipped]
    public var imageCount: Int
    public var timingsMs: Timings

    enum CodingKeys: String, CodingKey {
        case query, results, mode, top, candidates
        case unknownWords = "unknown_words", warning, skipped
        case imageCount = "image_count", timingsMs = "timings_ms"
    }

    init(query: Searcher.Query, run: SearchRun, mode: SearchMode, top: Int, candidates: Int, encodeMs: Double, totalMs: Double) {
        self.query = query.text
        results = run.hits.map { Result(rank: $0.rank, id: $0.id, score: $0.score, captions: $0.captions) }
        self.mode = mode.rawValue
        self.top = top
        self.candidates = candidates
        unknownWords = query.unknownWords
        warning = query.warning
        skipped = run.skipped.map { Skipped(id: $0.id, key: $0.key, reason: $0.reason) }
        imageCount = run.imageCount
        timingsMs = Timings(encode: encodeMs, firstStage: run.firstStageMilliseconds, rerank: run.rerankMilliseconds, total: totalMs)
    }
}

/// `POST /search`: several queries with shared settings.
public struct BatchSearchRequest: Codable, Sendable {
    public var queries: [String]
    public var top: Int?
    public var candidates: Int?
    public var mode: String?
}

/// The answers to a `POST /search`, in the order of its queries, all read from one snapshot.
public struct BatchSearchResponse: Codable, Sendable, Equatable {
    public var responses: [SearchResponse]
    public var imageCount: Int
    public var timingsMs: Double

    enum CodingKeys: String, CodingKey {
        case responses, imageCount = "image_count", timingsMs = "total_ms"
    }
}

/// `GET /images/{id}`: what the index stores about one image.
public struct ImageResponse: Codable, Sendable, Equatable {
    public var id: String
    public var key: UInt64
    public var source: String
    public var captions: [String]
    public var boxes: [[Float]]?
    public var imageWidth: Int?
    public var imageHeight: Int?
    /// Where the page finds the picture (nil when the service has none).
    public var picture: String?

    enum CodingKeys: String, CodingKey {
        case id, key, source, captions, boxes, imageWidth = "image_width", imageHeight = "image_height", picture
    }
}

/// `GET /info`: the manifest as of the newest commit, and how the page shows pictures.
public struct InfoResponse: Codable, Sendable, Equatable {
    public var index: String
    public var imageCount: Int
    public var manifest: IndexManifest
    /// `{id}` is replaced by the (URL-escaped) image id; nil: the page shows a placeholder.
    public var pictureURLTemplate: String?
    /// Shown on the page above the results (e.g. that the pictures are of a synthetic world).
    public var notice: String?
    public var limits: Limits

    public struct Limits: Codable, Sendable, Equatable {
        public var maxQueryLength: Int
        public var maxTop: Int
        public var maxCandidates: Int
        public var maxBatchQueries: Int
        public var maxBodyBytes: Int

        enum CodingKeys: String, CodingKey {
            case maxQueryLength = "max_query_length", maxTop = "max_top", maxCandidates = "max_candidates"
            case maxBatchQueries = "max_batch_queries", maxBodyBytes = "max_body_bytes"
        }
    }

    enum CodingKeys: String, CodingKey {
        case index, imageCount = "image_count", manifest, pictureURLTemplate = "picture_url_template", notice, limits
    }
}
