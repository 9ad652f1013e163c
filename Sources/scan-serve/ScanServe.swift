import ArgumentParser
import Foundation
import Hummingbird
import SCANCommandLine
import SCANSearch
import SCANServe

/// `scan-serve`: one index over HTTP (JSON API, Prometheus metrics and a search page).
@main
struct ScanServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-serve",
        abstract: "Serve an index over HTTP: a search page at /, a JSON API (/openapi.json) and /metrics.",
        discussion: """
        Reads only: build, add to and verify the index with scan-index (images it adds appear without a restart). \
        Binds to 127.0.0.1 unless --host says otherwise.

        Examples:
          scan-serve --name demo --image-dir demo/world/images
          scan-serve --index Indexes/f30k_test --image-url 'https://example.org/flickr30k/{id}.jpg'
        """)

    @Option(help: "Index directory.") var index: String?
    @Option(help: "Index name: the directory Indexes/NAME.") var name: String?
    @Option(help: "Address to bind (loopback by default).") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port, printed at start).") var port = 8080
    @Option(help: "Directory of pictures named {id}.EXT, served at /images/{id}.EXT (a NOTICE.txt in it is shown on the page).") var imageDir: String?
    @Option(help: "Extension of the pictures in --image-dir.") var imageExt = "svg"
    @Option(help: "URL template of the pictures, '{id}' replaced by the image id (overrides --image-dir on the page).") var imageUrl: String?
    @Flag(help: "Fail a query on a corrupt record instead of skipping the image.") var strict = false
    @Option(help: "Cores one query may use (0: all). One query per core gives the most queries per second under load; 0 gives the lowest latency of a lone query.") var threadsPerQuery = 1

    static func main() async { await runWithFastBLAS() }

    func validate() throws {
        if index != nil && name != nil { throw ValidationError("give --index or --name, not both") }
        if threadsPerQuery < 0 { throw ValidationError("--threads-per-query must be 0 (all cores) or more, got \(threadsPerQuery)") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
        if let t = imageUrl, !t.contains("{id}") { throw ValidationError("--image-url must contain {id}") }
        if let d = imageDir {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: d, isDirectory: &isDir) || !isDir.boolValue {
                throw ValidationError("--image-dir \(d): no such directory")
            }
        }
        if imageExt.isEmpty || imageExt.contains("/") || imageExt.contains(".") { throw ValidationError("--image-ext must be a bare extension such as svg or jpg") }
    }

    func run() async throws {
        let path = try IndexLocation.resolve(index: index, name: name)
        Searcher.tuneProcessForSearch()
        let searcher = try Searcher(index: path)
        var options = ServiceOptions()
        options.pictureDirectory = imageDir
        options.pictureExtension = imageExt
        options.pictureURLTemplate = imageUrl
        options.skipCorrupt = !strict
        options.threadsPerQuery = threadsPerQuery
        let service = SearchService(searcher: searcher, options: options)
        if let w = searcher.model.prefilterWarning { FileHandle.standardError.write(Data((w + "\n").utf8)) }
        let host = self.host
        let app = ServiceRouter.application(service, host: host, port: port) { bound in
            print("scan-serve: \(searcher.manifest.imageCount) images of \(path) at http://\(host):\(bound)/")
            fflush(stdout)
        }
        try await app.runService()
    }
}
