import Dispatch
import Foundation
import Hummingbird
import SCANCore
import SCANIndex
import SCANSearch

/// The service behind the routes: validates requests against `ServiceLimits`, answers them from one
/// LMDB snapshot each (so images committed by a running `scan-index add` appear without a restart),
/// and keeps the metrics. Searches run on Dispatch's pool, not on the server's event loops, so a
/// long query never delays `/healthz`.
public final class SearchService: @unchecked Sendable {
    public let searcher: Searcher
    public let options: ServiceOptions
    public let metrics: ServiceMetrics
    /// Images already reported as corrupt (each is logged once).
    private var reported: Set<UInt64> = []
    private let reportedLock = NSLock()

    public init(searcher: Searcher, options: ServiceOptions = ServiceOptions(), metrics: ServiceMetrics = ServiceMetrics()) {
        self.searcher = searcher
        self.options = options
        self.metrics = metrics
        metrics.indexImages.set(to: Double(searcher.manifest.imageCount))
    }

    /// One validated query's settings.
    public struct Settings: Sendable, Equatable {
        public var top = 10
        public var candidates = Searcher.defaultCandidates
        public var mode = SearchMode.twoStage
    }

    // MARK: - Validation

    func settings(top: String?, candidates: String?, mode: String?) throws -> Settings {
        var s = Settings()
        let l = options.limits
        if let top { s.top = try Self.integer(top, name: "top", in: 1...l.maxTop) }
        if let candidates { s.candidates = try Self.integer(candidates, name: "candidates", in: 1...l.maxCandidates) }
        if let mode {
            guard let m = SearchMode(rawValue: mode) else {
                throw APIError.badParameter("mode", "unknown mode '\(Self.clip(mode))': expected one of \(SearchMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            s.mode = m
        }
        return s
    }

    static func integer(_ text: String, name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw APIError.badParameter(name, "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(clip(text))'")
        }
        guard range.contains(v) else {
            throw APIError.badParameter(name, "\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(v)")
        }
        return v
    }

    func checkQuery(_ q: String?, name: String) throws -> String {
        guard let q else { throw APIError.badParameter(name, "missing query: give \(name)=words") }
        if q.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw APIError.badParameter(name, "empty query: give at least one word") }
        let max = options.limits.maxQueryLength
        if q.unicodeScalars.count > max { throw APIError.badParameter(name, "query of \(q.unicodeScalars.count) characters; at most \(max) are allowed") }
        return q
    }

    static func clip(_ s: String) -> String { s.count > 40 ? String(s.prefix(40)) + "..." : s }

    // MARK: - Search

    /// `GET /search?q=&top=&candidates=&mode=`.
    public func search(queryString: String?) async throws -> SearchResponse {
        let p = try QueryString(queryString)
        let q = try checkQuery(p["q"], name: "q")
        let s = try settings(top: p["top"], candidates: p["candidates"], mode: p["mode"])
        return try await offload { [self] in
            let snap = try snapshot()
            defer { snap.close() }
            return try answer(q, s, snapshot: snap, parameter: "q")
        }
    }

    /// `POST /search` with `{"queries": [...], "top": ..., "candidates": ..., "mode": ...}`.
    public func batch(body: Data) async throws -> BatchSearchResponse {
        let request: BatchSearchRequest
        do { request = try ServiceJSON.decoder.decode(BatchSearchRequest.self, from: body) } catch let DecodingError.typeMismatch(_, c) {
            throw APIError.badParameter(Self.path(c.codingPath), "wrong type: \(c.debugDescription)")
        } catch let DecodingError.keyNotFound(k, _) {
            throw APIError.badParameter(k.stringValue, "missing field '\(k.stringValue)'")
        } catch let DecodingError.valueNotFound(_, c) {
            throw APIError.badParameter(Self.path(c.codingPath), "null where a value is required")
        } catch {
            throw APIError.badParameter("body", "malformed JSON: expected {\"queries\": [\"...\"], \"top\": 10}")
        }
        guard !request.queries.isEmpty else { throw APIError.badParameter("queries", "no queries: give at least one") }
        let l = options.limits
        guard request.queries.count <= l.maxBatchQueries else {
            throw APIError.badParameter("queries", "\(request.queries.count) queries; at most \(l.maxBatchQueries) per request")
        }
        let texts = try request.queries.enumerated().map { try checkQuery($0.element, name: "queries[\($0.offset)]") }
        let s = try settings(top: request.top.map(String.init), candidates: request.candidates.map(String.init), mode: request.mode)
        return try await offload { [self] in
            let t0 = DispatchTime.now().uptimeNanoseconds
            let snap = try snapshot()
            defer { snap.close() }
            let responses = try texts.enumerated().map { try answer($0.element, s, snapshot: snap, parameter: "queries[\($0.offset)]") }
            return BatchSearchResponse(responses: responses, imageCount: snap.count,
                                       timingsMs: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
        }
        return out.isEmpty ? "body" : out
    }

    /// A snapshot of the newest commit (the resident prefilter extended to it).
    func snapshot() throws -> IndexSnapshot {
        let s = try searcher.snapshot()
        metrics.indexImages.set(to: Double(s.count))
        return s
    }

    func answer(_ text: String, _ s: Settings, snapshot: IndexSnapshot, parameter: String) throws -> SearchResponse {
        metrics.queriesInFlight.increment()
        defer { metrics.queriesInFlight.decrement() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let q: Searcher.Query
        do { q = try searcher.encode(text) } catch SearchError.emptyQuery {
            throw APIError.badParameter(parameter, "the query has no words")
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let run = try searcher.run(q, top: s.top, candidates: s.candidates, mode: s.mode, skipCorrupt: options.skipCorrupt, snapshot: snapshot)
        report(run.skipped)
        let t2 = DispatchTime.now().uptimeNanoseconds
        return SearchResponse(query: q, run: run, mode: s.mode, top: s.top, candidates: s.candidates,
                              encodeMs: Double(t1 - t0) / 1e6, totalMs: Double(t2 - t0) / 1e6)
    }

    /// Counts skipped images and logs each image the first time.
    func report(_ skipped: [SkippedImage]) {
        guard !skipped.isEmpty else { return }
        metrics.corruptSkips.increment(by: Int64(skipped.count))
        reportedLock.lock()
        let fresh = skipped.filter { !reported.contains($0.key) }
        for s in fresh { reported.insert(s.key) }
        metrics.corruptImages.set(to: Double(reported.count))
        reportedLock.unlock()
        for s in fresh {
            let who = s.id.map { "image '\($0)' (key \(s.key))" } ?? "image key \(s.key)"
            FileHandle.standardError.write(Data("scan-serve: skipping \(who): corrupt record: \(s.reason); run `scan-index verify`\n".utf8))
        }
    }

    // MARK: - Images and info

    /// `GET /images/{id}`: a picture file when the name is one in the picture directory, else the
    /// image's stored metadata; 404 when neither exists.
    public func image(_ name: String) async throws -> Response {
        if let (data, type) = picture(name) {
            var headers = HTTPFields()
            headers[.contentType] = type
            headers[.cacheControl] = "max-age=3600"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let info = try await offload { [self] () throws -> ImageResponse? in
            let snap = try snapshot()
            defer { snap.close() }
            guard let key = try snap.key(forID: name) else { return nil }
            let md: ImageMetadata
            do { md = try snap.metadata(key) } catch let IndexError.corruptRecord(db, _, reason) {
                // Searches skip this image too: it is not served, and the service lives on.
                report([SkippedImage(id: name, key: key, reason: "\(db): \(reason)")])
                throw APIError(.notFound, parameter: "id", "image '\(Self.clip(name))' is unavailable: its metadata record is corrupt (run `scan-index verify`)")
            }
            let boxes = md.boxes.map { b in stride(from: 0, to: b.count - b.count % 4, by: 4).map { Array(b[$0..<($0 + 4)]) } }
            return ImageResponse(id: md.id, key: key, source: md.source, captions: md.captions, boxes: boxes,
                                 imageWidth: md.imageWidth, imageHeight: md.imageHeight, picture: pictureURL(md.id))
        }
        guard let info else { throw APIError(.notFound, parameter: "id", "no image with id '\(Self.clip(name))' in the index") }
        return try Self.json(info)
    }

    static let pictureTypes = ["svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                               "webp": "image/webp", "gif": "image/gif"]

    /// The bytes and content type of picture file `name` in the picture directory.
    func picture(_ name: String) -> (Data, String)? {
        guard let dir = options.pictureDirectory, !name.hasPrefix("."), !name.contains("/"), !name.contains("\0"),
              let type = Self.pictureTypes[(name as NSString).pathExtension.lowercased()] else { return nil }
        let path = (dir as NSString).appendingPathComponent(name)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return (data, type)
    }

    func pictureURL(_ id: String) -> String? {
        guard let t = options.pageTemplate else { return nil }
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? id
        return t.replacingOccurrences(of: "{id}", with: escaped)
    }

    /// `GET /info`.
    public func info() async throws -> InfoResponse {
        try await offload { [self] in
            let snap = try snapshot()
            defer { snap.close() }
            let l = options.limits
            return InfoResponse(index: searcher.indexPath, imageCount: snap.count, manifest: snap.manifest,
                                pictureURLTemplate: options.pageTemplate, notice: options.notice,
                                limits: .init(maxQueryLength: l.maxQueryLength, maxTop: l.maxTop, maxCandidates: l.maxCandidates,
                                              maxBatchQueries: l.maxBatchQueries, maxBodyBytes: l.maxBodyBytes))
        }
    }

    // MARK: - Helpers

    /// Runs blocking work (LMDB reads, decoding, scoring) on Dispatch's pool.
    /// Each runs with its work limited to `options.threadsPerQuery` cores.
    func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let threads = options.threadsPerQuery > 0 ? options.threadsPerQuery : Parallel.cores
        return try await withCheckedThrowingContinuation { c in
            DispatchQueue.global(qos: .userInitiated).async { c.resume(with: Result { try Parallel.withThreadLimit(threads, body) }) }
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try ServiceJSON.encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
