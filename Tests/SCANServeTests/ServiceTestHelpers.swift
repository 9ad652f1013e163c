import Foundation
import Hummingbird
import HummingbirdTesting
import SCANSearch
import SCANServe
import XCTest

/// A service over `index` (the shared test index by default) with the demo pictures.
func makeService(index: String = ServeWorld.shared.index, pictures: Bool = true) throws -> SearchService {
    var o = ServiceOptions()
    if pictures { o.pictureDirectory = ServeWorld.shared.pictures }
    return SearchService(searcher: try Searcher(index: index), options: o)
}

/// Runs `body` against the service's router in-process (HummingbirdTesting, no socket).
func withClient<T: Sendable>(_ service: SearchService, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
    try await ServiceRouter.application(service, host: "127.0.0.1", port: 0).test(.router, body)
}

struct Reply {
    var status: Int
    var contentType: String?
    var body: String
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    /// The `parameter` of an error body.
    var errorParameter: String? { (object["error"] as? [String: Any])?["parameter"] as? String }
}

func get(_ client: any TestClientProtocol, _ uri: String) async throws -> Reply {
    try await client.execute(uri: uri, method: .get) { r in
        Reply(status: r.status.code, contentType: r.headers[.contentType], body: String(buffer: r.body))
    }
}

func post(_ client: any TestClientProtocol, _ uri: String, body: String, headers: HTTPFields = [:]) async throws -> Reply {
    try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { r in
        Reply(status: r.status.code, contentType: r.headers[.contentType], body: String(buffer: r.body))
    }
}

/// `q` escaped for a query string.
func escaped(_ q: String) -> String {
    q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
}
