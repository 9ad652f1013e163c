import Dispatch
import Hummingbird

/// Outermost middleware: turns every error into a JSON error response (so a client never sees an
/// HTML or empty error page) and counts each request by route and status, with its latency.
struct RequestRecorder<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let t0 = DispatchTime.now().uptimeNanoseconds
        var response: Response
        do { response = try await next(request, context) } catch {
            response = Self.errorResponse(error)
        }
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, status: response.status.code, seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        return response
    }

    static func errorResponse(_ error: Error) -> Response {
        let e: APIError
        switch error {
        case let a as APIError: e = a
        case let h as HTTPError:
            let message = h.body ?? (h.status == .notFound ? "no such route: see /openapi.json" : h.status.reasonPhrase)
            e = APIError(h.status, parameter: h.status == .contentTooLarge ? "body" : nil, message)
        default: e = APIError(.internalServerError, parameter: nil, "\(error)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: e.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: e.jsonBody)))
    }
}
