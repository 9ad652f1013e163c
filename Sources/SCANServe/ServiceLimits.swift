/// The bounds of what a request may ask, published in the OpenAPI document. Anything outside them
/// is answered with a 400 naming the parameter, before any work is done.
public struct ServiceLimits: Sendable, Equatable {
    /// Characters of one query (a caption is about 12 words; 1,000 leaves room for long descriptions).
    public var maxQueryLength = 1_000
    /// Results per query.
    public var maxTop = 100
    /// Candidates re-ranked by SCAN (K = 1,000 already decodes about 150 MB at paper size).
    public var maxCandidates = 1_000
    /// Queries of one POST /search.
    public var maxBatchQueries = 32
    /// Bytes of a request body (32 queries of 1,000 characters, escaped, fit easily).
    public var maxBodyBytes = 64 * 1024

    public init() {}
}
