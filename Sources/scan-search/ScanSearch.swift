import ArgumentParser
import SCANCommandLine
import Foundation
import SCANSearch

/// `scan-search`: text-to-image search over an index.
@main
struct ScanSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-search",
        abstract: "Search an index with a text query: prefilter, then SCAN re-ranking (or --exact).",
        discussion: """
        The query is encoded with the index's own model copy. The prefilter scores every image; the best \
        --candidates are decoded and re-ranked by the model's cross attention. A query of '-' reads one query \
        per line from stdin and answers each in order.

        Examples:
          scan-search "two dogs play in the snow" --name f30k_test
          printf 'a dog\\na red car\\n' | scan-search - --index Indexes/f30k_test --json

        --candidates below --top is raised to --top (said on stderr). With --json, each object lists \
        the query's words the model does not know in "unknown_words".
        """)

    @Argument(help: "The query, or '-' to read one query per line from stdin.") var query: String
    @OptionGroup var location: IndexLocationOptions
    @Option(help: "Number of results.") var top = 10
    @Option(help: "Prefilter candidates re-ranked by SCAN (at least --top: a smaller value is raised to --top).") var candidates = Searcher.defaultCandidates
    @Flag(help: "Score every image with SCAN (slow, exact).") var exact = false
    @Flag(help: "Rank by the prefilter alone (no re-ranking; scores are prefilter cosines).") var prefilterOnly = false
    @Flag(help: "One JSON object per query on one line.") var json = false
    @Flag(help: "Leave out images with a corrupt record (named on stderr) instead of failing the query.") var skipCorrupt = false

    static func main() { runWithFastBLAS() }

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1") }
        if candidates < 1 { throw ValidationError("--candidates must be at least 1") }
        if exact && prefilterOnly { throw ValidationError("--exact and --prefilter-only exclude each other") }
    }

    func run() throws {
        if query != "-" && query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw SearchError.emptyQuery }
        let path = try IndexLocation.resolve(index: location.index, name: location.name)
        Searcher.tuneProcessForSearch()
        let searcher = try Searcher(index: path)
        if let w = searcher.model.prefilterWarning, !exact { warn(w) }
        if candidates < top && !exact && !prefilterOnly {
            warn("note: --candidates \(candidates) is below --top \(top): re-ranking the best \(top) prefilter candidates (K raised to --top)")
        }
        if searcher.manifest.state != .complete {
            warn("warning: \(path) is still being built (or its build was interrupted): searching the \(searcher.manifest.imageCount) images committed so far")
        }
        if query != "-" {
            try answer(query, searcher)
            return
        }
        var failures = 0
        while let line = readLine(strippingNewline: true) {
            do { try answer(line, searcher) } catch {
                failures += 1
                warn("error: \(error)")
                if json { print(SearchOutput.jsonError(query: line, error: error)) }
            }
            fflush(stdout)
        }
        if failures > 0 { throw ExitCode(1) }
    }

    func answer(_ text: String, _ searcher: Searcher) throws {
        let q = try searcher.encode(text)
        if let w = q.warning { warn(w) }
        let hits: [SearchHit]
        if skipCorrupt {
            let run = try searcher.run(q, top: top, candidates: candidates, mode: prefilterOnly ? .prefilter : (exact ? .exact : .twoStage), skipCorrupt: true)
            for s in run.skipped { warn("warning: skipped image \(s.id.map { "'\($0)'" } ?? "?") (key \(s.key)): corrupt record: \(s.reason); run `scan-index verify`") }
            hits = run.hits
        } else {
            hits = prefilterOnly ? try searcher.prefilterSearch(q, top: top)
                                 : try searcher.search(q, top: top, candidates: candidates, exact: exact)
        }
        print(json ? SearchOutput.jsonLine(query: text, hits: hits, unknownWords: q.unknownWords) : SearchOutput.text(query: text, hits: hits))
    }
}
