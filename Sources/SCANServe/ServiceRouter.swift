import Foundation
import Hummingbird

/// The routes of `scan-serve` (described in `OpenAPIDocument`).
public enum ServiceRouter {
    public static func make(_ service: SearchService) -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestRecorder(metrics: service.metrics))
        router.get("/") { _, _ in text(PageAssets.html, type: "text/html; charset=utf-8") }
        router.get("/healthz") { _, _ in text("{\"status\": \"ok\"}", type: "application/json; charset=utf-8") }
        router.get("/openapi.json") { _, _ in text(OpenAPIDocument.json, type: "application/json; charset=utf-8") }
        router.get("/metrics") { _, _ in text(service.metrics.text(), type: "text/plain; version=0.0.4; charset=utf-8") }
        router.get("/info") { _, _ in try SearchService.json(try await service.info()) }
        router.get("/search") { request, _ in try SearchService.json(try await service.search(queryString: request.uri.query)) }
        router.post("/search") { request, _ in
            let limit = service.options.limits.maxBodyBytes
            let tooLarge = APIError(.contentTooLarge, parameter: "body", "request body over \(limit) bytes")
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: limit) } catch {
                if "\(error)".contains("TooManyBytes") || (error as? HTTPError)?.status == .contentTooLarge { throw tooLarge }
                throw APIError.badParameter("body", "the request body could not be read: \(error)")
            }
            return try SearchService.json(try await service.batch(body: Data(buffer.readableBytesView)))
        }
        router.get("/images/:id") { _, context in
            let raw = context.parameters.get("id") ?? ""
            guard let id = raw.removingPercentEncoding else { throw APIError.badParameter("id", "invalid percent-encoding in the id") }
            return try await service.image(id)
        }
        return router
    }

    /// An application serving `service` on `host:port` (port 0: any free port; `onRunning` gets the bound port).
    public static func application(_ service: SearchService, host: String, port: Int,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: make(service), configuration: .init(address: .hostname(host, port: port), serverName: "scan-serve"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }

    static func text(_ s: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: s)))
    }
}
