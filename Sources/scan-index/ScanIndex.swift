import ArgumentParser
import SCANCommandLine
import Foundation
import SCANSearch

/// `scan-index`: build, extend, describe and check a search index.
@main
struct ScanIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-index",
        abstract: "Build and maintain a SCAN search index (LMDB + zstd records, a prefilter, a copy of the model).",
        subcommands: [Build.self, Add.self, Delete.self, Split.self, Info.self, Verify.self])

    static func main() { runWithFastBLAS() }
}

extension IndexLocationOptions {
    /// The directory; with neither option, the only index under Indexes/.
    func resolve() throws -> String { try IndexLocation.resolve(index: index, name: name) }
}

struct SourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Features: a precomp {split}_ims.npy (N x regions x img_dim), a directory of per-image .npy files (regions x img_dim, id = file name), or a bottom-up-attention .tsv.", valueName: "path"))
    var features: String

    @Option(help: ArgumentHelp("Captions for a precomp .npy, one per line (5 or 1 per image); default: {split}_caps.txt next to it when present.", valueName: "file"))
    var captions: String?

    @Flag(help: "Do not pick up {split}_caps.txt next to a precomp .npy.")
    var noCaptions = false

    @Option(help: ArgumentHelp("External ids for a precomp .npy, one per image and line (default: the row number, so a second .npy in the same index needs its own ids: ids already appended from another source are an error).", valueName: "file"))
    var ids: String?

    @Option(help: "Images encoded and committed per transaction.") var batchSize = 128
    @Option(help: "zstd level of the region records (0: uncompressed).") var compressionLevel = 3
    @Flag(help: "Skip the scan for NaN/inf feature values before writing (a bad value then stops the build half way).")
    var noCheckValues = false
    @Flag(help: "No progress lines on stderr.") var quiet = false

    func open() throws -> FeatureSource {
        let opened = try FeatureSources.open(path: features, captions: captions, ids: ids, autoCaptions: !noCaptions)
        if !quiet { for n in opened.notes { warn(n) } }
        return opened.source
    }

    func apply(to o: inout BuildOptions) throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard (0...22).contains(compressionLevel) else { throw ValidationError("--compression-level must be 0...22") }
        o.batchSize = batchSize
        o.compressionLevel = compressionLevel
        o.checkValues = !noCheckValues
        o.showProgress = !quiet
    }
}

extension Precision: ExpressibleByArgument {}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode images with a model and store them in a new index (re-run to resume an interrupted build).",
        discussion: """
        The index goes to --index DIR or Indexes/NAME (--name). It stores per image the encoded regions \
        (quantised, zstd-compressed, checksummed), the prefilter vector and metadata (id, source, captions, boxes), \
        and a copy of the model directory in DIR/model. The model directory's fitted prefilter.safetensors is used \
        when present; without it the plain mean is used (poor retention; see scan-prefilter). Re-running the same \
        command after an interruption continues where it stopped: ids the same source appended already are skipped. \
        Ids the index holds from another source are an error (nothing is appended): give that source its own ids with --ids.

        Example (after scan-train, which writes runs/f30k_scan/checkpoint/model_best):
          scan-index build --model runs/f30k_scan/checkpoint/model_best \\
            --features data/f30k_precomp/test_ims.npy --name f30k_test
        """)

    @Option(help: "Model directory (config.json, model.safetensors, vocab.json, optional prefilter.safetensors), or an original checkpoint (model_best.pth.tar).")
    var model: String
    @OptionGroup var checkpoint: CheckpointVocabularyOption
    @OptionGroup var location: IndexLocationOptions
    @OptionGroup var source: SourceOptions
    @Option(help: "Storage of the encoded regions: pq4, pq8, pq16, pq32 (product quantisation: one byte per 4/8/16/32 dims, codebook trained on a sample of the source), float16, int8 (a scale per region) or float32. Default: pq4 (float16 when embed_size does not divide by 4); see the README's codec table.") var precision: Precision?
    @Option(help: "Storage of the prefilter vectors: float16, int8 or float32.") var prefilterPrecision: Precision = .float16
    @Option(help: ArgumentHelp("Build shard i of a set of N: only the images whose id hashes there (XXH64 of the UTF-8 id, mod N).", valueName: "i/N"))
    var shard: String?

    func validate() throws {
        // Here rather than in run(), so that the error comes with this subcommand's usage.
        guard location.index != nil || location.name != nil else { throw ValidationError("give --index DIR or --name NAME for the new index") }
        if let shard, ShardMembership.parse(shard) == nil {
            throw ValidationError("--shard must be i/N with 0 <= i < N <= \(ShardMembership.maxCount), got '\(shard)'")
        }
    }

    func run() throws {
        let path = try location.resolve()
        var o = BuildOptions()
        try source.apply(to: &o)
        o.precision = precision
        o.prefilterPrecision = prefilterPrecision
        o.shard = shard.flatMap(ShardMembership.parse)
        let src = try source.open()
        let report = try checkpoint.withModelDirectory(model, features: source.features) {
            try IndexBuilder.build(index: path, modelDirectory: $0 ?? model, source: src, options: o, log: warn)
        }
        print(report.summary)
    }
}

struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append images to an existing index, encoded with the index's own model copy.",
        discussion: """
        Ids this source appended already are skipped (a repeated add resumes). Ids the index holds from another \
        source are an error and nothing is appended: without --ids a precomp .npy's ids are its row numbers, so give \
        a second .npy its own ids with --ids FILE. Searches running meanwhile see the index as of a commit.

        Example (ids dev-0 ... dev-999 for Flickr30K's 1000 dev images):
          seq -f 'dev-%g' 0 999 > dev_ids.txt
          scan-index add --name f30k_test --features data/f30k_precomp/dev_ims.npy \\
            --ids dev_ids.txt
        """)

    @OptionGroup var location: IndexLocationOptions
    @OptionGroup var source: SourceOptions
    @Option(help: "Optional: a model directory or original checkpoint that must be the index's model (checked by fingerprint).") var model: String?
    @OptionGroup var checkpoint: CheckpointVocabularyOption
    @Flag(help: "Replace the images whose ids the index holds already (delete and add in one commit per batch) instead of skipping them or refusing another source's.")
    var replace = false

    func run() throws {
        let path = try location.resolve()
        var o = BuildOptions()
        try source.apply(to: &o)
        o.replace = replace
        let src = try source.open()
        let report = try checkpoint.withModelDirectory(model, features: source.features) {
            try IndexBuilder.add(index: path, source: src, modelDirectory: $0, options: o, log: warn)
        }
        print(report.summary)
    }
}

struct Split: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut a whole index into N shard indexes PREFIX-i-of-N by the hash of each id, copying records without re-encoding.",
        discussion: """
        Each shard gets the source's model copy and holds the images whose XXH64(UTF-8 id) mod N is its number: the same \
        index that `scan-index build --shard i/N` makes from the same source. Checksums are checked while copying; a \
        re-run resumes an interrupted split. Serve the shards with Tools/ray (see the README, "Beyond one machine").

        Example:
          scan-index split --index Indexes/demo --shards 4 --out Indexes/demo-shard
        """)

    @OptionGroup var location: IndexLocationOptions
    @Option(help: "Number of shards.") var shards: Int
    @Option(help: ArgumentHelp("Shard directories are PREFIX-i-of-N.", valueName: "PREFIX")) var out: String

    func validate() throws {
        guard (1...ShardMembership.maxCount).contains(shards) else { throw ValidationError("--shards must be in 1...\(ShardMembership.maxCount), got \(shards)") }
        guard !out.isEmpty else { throw ValidationError("--out must name a prefix for the shard directories") }
    }

    func run() throws {
        let report = try IndexSplitter.split(index: try location.resolve(), shards: shards, outPrefix: out)
        print(report.summary)
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the manifest and the sizes of an index.")
    @OptionGroup var location: IndexLocationOptions
    @Flag(help: "Print the manifest as JSON instead.") var json = false

    func run() throws {
        let info = try IndexInfo(index: try location.resolve())
        if json {
            print(String(decoding: try info.manifest.jsonBytes(), as: UTF8.self))
        } else {
            print(info.text)
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode every record, check every checksum, the counts and the model copy; exit status 1 on any problem.")
    @OptionGroup var location: IndexLocationOptions

    func run() throws {
        let path = try location.resolve()
        try IndexLocation.requireIndex(path)
        let reader = try IndexReader(path: path, allowIncomplete: true)
        let report = try reader.verify()
        print(report.summary)
        var ok = report.isOK
        if let sh = report.manifest.shard { print("shard: \(sh.index) of \(sh.count), set \(sh.setFingerprint)") }
        do {
            print("content fingerprint: \(try reader.withSnapshot { try $0.contentFingerprint() }) (ids and stored record bytes)")
        } catch {
            print("content fingerprint: \(error)")
            ok = false
        }
        do {
            let copy = try IndexModel.loadCopy(ofIndex: path, manifest: report.manifest)
            print("model copy: ok (fingerprint \(copy.fingerprint), prefilter \(copy.prefilter.kind.rawValue) dim \(copy.prefilter.dim))")
        } catch {
            print("model copy: \(error)")
            ok = false
        }
        if report.manifest.state != .complete { print("state: \(report.manifest.state.rawValue) (the build has not finished: re-run it to resume)") }
        if !ok {
            print("verify: FAILED")
            throw ExitCode(1)
        }
        print("verify: ok")
    }
}
