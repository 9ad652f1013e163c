import Foundation
import HummingbirdTesting
import SCANIndex
import SCANSearch
import SCANServe
import TestSupport
import XCTest

/// Every route of scan-serve through its router, and every bad input of the issue's list.
final class ServiceRouteTests: XCTestCase {
    override class func setUp() { _ = ServeWorld.shared }

    func testSearchAnswersWithResultsTimingsAndSettings() async throws {
        let service = try makeService()
        let q = try ServeWorld.shared.testCaptions()[3]
        let r = try await withClient(service) { try await get($0, "/search?q=\(escaped(q))&top=5&candidates=20") }
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(r.contentType, "application/json; charset=utf-8")
        let o = r.object
        XCTAssertEqual(o["query"] as? String, q)
        let results = try XCTUnwrap(o["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 5)
        XCTAssertEqual(results.map { $0["rank"] as? Int }, [1, 2, 3, 4, 5])
        XCTAssertEqual((results[0]["captions"] as? [String])?.count, 5)
        XCTAssertEqual(o["mode"] as? String, "two-stage")
        XCTAssertEqual(o["top"] as? Int, 5)
        XCTAssertEqual(o["candidates"] as? Int, 20)
        XCTAssertEqual(o["image_count"] as? Int, 40)
        XCTAssertEqual((o["skipped"] as? [Any])?.count, 0)
        let t = try XCTUnwrap(o["timings_ms"] as? [String: Double])
        for k in ["encode", "first_stage", "rerank", "total"] { XCTAssertGreaterThanOrEqual(try XCTUnwrap(t[k], k), 0) }
        XCTAssertGreaterThanOrEqual(t["total"]!, t["first_stage"]! + t["rerank"]!)
        // Scores are in descending order.
        let scores = results.compactMap { $0["score"] as? Double }
        XCTAssertEqual(scores, scores.sorted(by: >))
    }

    /// For the same query and settings, `/search` gives what `scan-search --json` prints (each mode).
    func testSearchEqualsScanSearchJSON() async throws {
        let service = try makeService()
        let captions = try ServeWorld.shared.testCaptions()
        for (q, mode, flags) in [(captions[0], "two-stage", ["--candidates", "12"]), (captions[7], "exact", ["--exact"]),
                                 (captions[9], "prefilter", ["--prefilter-only"]), ("a dog on a beach", "two-stage", ["--candidates", "12"])] {
            let cli = try ToolRunner.run("scan-search", [q, "--index", ServeWorld.shared.index, "--json", "--top", "6"] + flags)
            XCTAssertEqual(cli.status, 0, cli.stderr)
            let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])
            let r = try await withClient(service) { try await get($0, "/search?q=\(escaped(q))&top=6&candidates=12&mode=\(mode)") }
            XCTAssertEqual(r.status, 200, r.body)
            XCTAssertEqual(r.object["query"] as? String, expected["query"] as? String)
            let a = try XCTUnwrap(r.object["results"] as? [[String: Any]]), b = try XCTUnwrap(expected["results"] as? [[String: Any]])
            XCTAssertEqual(a.count, b.count, mode)
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x["rank"] as? Int, y["rank"] as? Int, mode)
                XCTAssertEqual(x["id"] as? String, y["id"] as? String, mode)
                XCTAssertEqual(x["captions"] as? [String], y["captions"] as? [String], mode)
                XCTAssertEqual((x["score"] as? Double).map(Float.init), (y["score"] as? Double).map(Float.init), mode)
            }
            XCTAssertEqual(Set(a[0].keys), Set(b[0].keys), "a result has the same fields as scan-search's")
        }
    }

    func testBatchSearchAnswersEachQueryInOrder() async throws {
        let service = try makeService()
        let c = try ServeWorld.shared.testCaptions()
        let body = #"{"queries": ["\#(c[1])", "\#(c[2])", "zzzq qqqz"], "top": 3, "mode": "exact"}"#
        let r = try await withClient(service) { try await post($0, "/search", body: body) }
        XCTAssertEqual(r.status, 200, r.body)
        let responses = try XCTUnwrap(r.object["responses"] as? [[String: Any]])
        XCTAssertEqual(responses.map { $0["query"] as? String }, [c[1], c[2], "zzzq qqqz"])
        XCTAssertEqual(responses.map { ($0["results"] as? [Any])?.count }, [3, 3, 3])
        XCTAssertEqual(responses.map { $0["mode"] as? String }, ["exact", "exact", "exact"])
        // Words not in the vocabulary: results plus the warning, as in the shell.
        XCTAssertEqual(responses[2]["unknown_words"] as? [String], ["zzzq", "qqqz"])
        XCTAssertTrue((responses[2]["warning"] as? String)?.contains("no word of the query") ?? false)
        // The same query alone gives the same results.
        let single = try await withClient(service) { try await get($0, "/search?q=\(escaped(c[2]))&top=3&mode=exact") }
        XCTAssertEqual((single.object["results"] as? [[String: Any]])?.map { $0["id"] as? String },
                       (responses[1]["results"] as? [[String: Any]])?.map { $0["id"] as? String })
    }

    /// The issue's bad inputs: each gets a 4xx JSON error naming the parameter, never a 5xx.
    func testBadInputGetsA4xxNamingTheParameter() async throws {
        let service = try makeService()
        let long = String(repeating: "dog ", count: 251)  // 1,004 characters
        let cases: [(String, String, String?, Int, String?)] = [
            ("GET", "/search", nil, 400, "q"),
            ("GET", "/search?q=", nil, 400, "q"),
            ("GET", "/search?q=%20%20%20", nil, 400, "q"),
            ("GET", "/search?q=\(escaped(long))", nil, 400, "q"),
            ("GET", "/search?q=dog&top=0", nil, 400, "top"),
            ("GET", "/search?q=dog&top=101", nil, 400, "top"),
            ("GET", "/search?q=dog&top=-3", nil, 400, "top"),
            ("GET", "/search?q=dog&top=ten", nil, 400, "top"),
            ("GET", "/search?q=dog&top=99999999999999999999999", nil, 400, "top"),
            ("GET", "/search?q=dog&candidates=0", nil, 400, "candidates"),
            ("GET", "/search?q=dog&candidates=1001", nil, 400, "candidates"),
            ("GET", "/search?q=dog&candidates=1.5", nil, 400, "candidates"),
            ("GET", "/search?q=dog&mode=fast", nil, 400, "mode"),
            ("GET", "/search?q=dog&mode=", nil, 400, "mode"),
            ("GET", "/search?q=%E0%A4%A", nil, 400, "q"),
            ("POST", "/search", "{\"queries\": [\"a dog\"", 400, "body"),
            ("POST", "/search", "not json", 400, "body"),
            ("POST", "/search", "", 400, "body"),
            ("POST", "/search", "[1, 2]", 400, "body"),
            ("POST", "/search", "{}", 400, "queries"),
            ("POST", "/search", "{\"queries\": []}", 400, "queries"),
            ("POST", "/search", "{\"queries\": \"a dog\"}", 400, "queries"),
            ("POST", "/search", "{\"queries\": [3]}", 400, "queries[0]"),
            ("POST", "/search", "{\"queries\": [\"a dog\", \"  \"]}", 400, "queries[1]"),
            ("POST", "/search", "{\"queries\": [\"\(long)\"]}", 400, "queries[0]"),
            ("POST", "/search", "{\"queries\": [\"a dog\"], \"top\": 0}", 400, "top"),
            ("POST", "/search", "{\"queries\": [\"a dog\"], \"top\": \"5\"}", 400, "top"),
            ("POST", "/search", "{\"queries\": [\"a dog\"], \"candidates\": 5000}", 400, "candidates"),
            ("POST", "/search", "{\"queries\": [\"a dog\"], \"mode\": \"slow\"}", 400, "mode"),
            ("POST", "/search", "{\"queries\": [" + Array(repeating: "\"a dog\"", count: 33).joined(separator: ",") + "]}", 400, "queries"),
            ("POST", "/search", "{\"queries\": [\"" + String(repeating: "a", count: 70_000) + "\"]}", 413, "body"),
            ("GET", "/images/no-such-image", nil, 404, "id"),
            ("GET", "/images/..%2F..%2Fetc%2Fpasswd", nil, 404, "id"),
            ("GET", "/images/9999.svg", nil, 404, "id"),
            ("GET", "/no/such/route", nil, 404, nil),
            ("DELETE", "/search", nil, 404, nil),
        ]
        try await withClient(service) { client in
            for (method, uri, body, status, parameter) in cases {
                let r = method == "POST" ? try await post(client, uri, body: body ?? "")
                    : try await client.execute(uri: uri, method: method == "GET" ? .get : .delete) { r in
                        Reply(status: r.status.code, contentType: r.headers[.contentType], body: String(buffer: r.body))
                    }
                let label = "\(method) \(uri.prefix(80)) \(body.map { String($0.prefix(60)) } ?? "")"
                XCTAssertEqual(r.status, status, label + " -> " + r.body.prefix(300))
                XCTAssertEqual(r.contentType, "application/json; charset=utf-8", label)
                XCTAssertEqual(r.errorParameter, parameter, label + " -> " + r.body.prefix(300))
                XCTAssertNotNil((r.object["error"] as? [String: Any])?["message"] as? String, label)
            }
            // Still serving after all that.
            let alive = try await get(client, "/healthz")
            XCTAssertEqual(alive.status, 200)
        }
    }

    func testImagesGiveMetadataPicturesAnd404() async throws {
        let service = try makeService()
        try await withClient(service) { client in
            let r = try await get(client, "/images/3")
            XCTAssertEqual(r.status, 200, r.body)
            XCTAssertEqual(r.object["id"] as? String, "3")
            XCTAssertEqual(r.object["key"] as? Int, 3)
            XCTAssertEqual(r.object["captions"] as? [String], Array(try ServeWorld.shared.testCaptionLines()[15..<20]))
            XCTAssertEqual(r.object["picture"] as? String, "/images/3.svg")
            let svg = try await get(client, "/images/3.svg")
            XCTAssertEqual(svg.status, 200)
            XCTAssertEqual(svg.contentType, "image/svg+xml")
            XCTAssertEqual(svg.body, try String(contentsOfFile: ServeWorld.shared.pictures + "/3.svg", encoding: .utf8))
            XCTAssertTrue(svg.body.hasPrefix("<svg"))
            let notice = try await get(client, "/images/NOTICE.txt")
            XCTAssertEqual(notice.status, 404, "only pictures are served from the directory")
        }
        // Without a picture directory the page gets no template (placeholder) and .svg names are ids.
        let bare = try makeService(pictures: false)
        try await withClient(bare) { client in
            let noPicture = try await get(client, "/images/3.svg")
            XCTAssertEqual(noPicture.status, 404)
            let info = try await get(client, "/info")
            XCTAssertNil(info.object["picture_url_template"])
            XCTAssertNil(info.object["notice"])
        }
    }

    func testInfoHealthMetricsOpenAPIAndPage() async throws {
        let service = try makeService()
        try await withClient(service) { client in
            let h = try await get(client, "/healthz")
            XCTAssertEqual(h.status, 200)
            XCTAssertEqual(h.object["status"] as? String, "ok")

            let info = try await get(client, "/info")
            XCTAssertEqual(info.status, 200)
            XCTAssertEqual(info.object["image_count"] as? Int, 40)
            let m = try XCTUnwrap(info.object["manifest"] as? [String: Any])
            XCTAssertEqual(m["image_count"] as? Int, 40)
            XCTAssertEqual(m["state"] as? String, "complete")
            XCTAssertEqual(m["prefilter_kind"] as? String, "projection")
            XCTAssertEqual(info.object["picture_url_template"] as? String, "/images/{id}.svg")
            XCTAssertTrue((info.object["notice"] as? String)?.contains("Synthetic") ?? false)

            _ = try await get(client, "/search?q=a+dog&top=2")
            _ = try await get(client, "/search?q=dog&top=0")
            let metrics = try await get(client, "/metrics")
            XCTAssertEqual(metrics.status, 200)
            XCTAssertTrue(metrics.contentType?.hasPrefix("text/plain") ?? false)
            for line in ["scan_serve_requests_total{route=\"/search\",status=\"200\"} 1", "scan_serve_requests_total{route=\"/search\",status=\"400\"} 1",
                         "scan_serve_requests_total{route=\"/info\",status=\"200\"} 1", "scan_serve_index_images 40", "scan_serve_queries_in_flight 0",
                         "scan_serve_corrupt_skips_total 0", "scan_serve_request_duration_seconds_count{route=\"/search\"} 2"] {
                XCTAssertTrue(metrics.body.contains(line), "missing '\(line)' in\n\(metrics.body)")
            }
            XCTAssertTrue(metrics.body.contains("scan_serve_request_duration_seconds_bucket{route=\"/search\",le=\"0.005\"}"))

            let doc = try await get(client, "/openapi.json")
            XCTAssertEqual(doc.status, 200)
            XCTAssertEqual(doc.object["openapi"] as? String, "3.0.3")
            let paths = try XCTUnwrap(doc.object["paths"] as? [String: Any])
            XCTAssertEqual(Set(paths.keys), ["/search", "/images/{id}", "/info", "/healthz", "/metrics", "/openapi.json", "/"])
            // The published limits are the service's.
            let params = try XCTUnwrap(((paths["/search"] as? [String: Any])?["get"] as? [String: Any])?["parameters"] as? [[String: Any]])
            func schema(_ name: String) -> [String: Any] { params.first { $0["name"] as? String == name }?["schema"] as? [String: Any] ?? [:] }
            let l = ServiceLimits()
            XCTAssertEqual(schema("q")["maxLength"] as? Int, l.maxQueryLength)
            XCTAssertEqual(schema("top")["maximum"] as? Int, l.maxTop)
            XCTAssertEqual(schema("candidates")["maximum"] as? Int, l.maxCandidates)
            XCTAssertEqual(schema("mode")["enum"] as? [String], SearchMode.allCases.map(\.rawValue))

            let page = try await get(client, "/")
            XCTAssertEqual(page.status, 200)
            XCTAssertEqual(page.contentType, "text/html; charset=utf-8")
            XCTAssertTrue(page.body.contains("<form id=\"search\""))
            // Offline: nothing is loaded from another host.
            for pattern in ["src=\"http", "href=\"http", "@import", "url(http", "fetch(\"http", "<link "] {
                XCTAssertFalse(page.body.contains(pattern), "the page refers to '\(pattern)'")
            }
            let head = try await client.execute(uri: "/healthz", method: .head) { $0.status.code }
            XCTAssertEqual(head, 200)
        }
    }
}

extension ServeWorld {
    func testCaptionLines() throws -> [String] {
        try String(contentsOfFile: world + "/test_caps.txt", encoding: .utf8).split(separator: "\n").map(String.init)
    }
}
