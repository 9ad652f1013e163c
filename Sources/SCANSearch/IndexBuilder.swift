import Foundation
import SCANCore
import SCANIndex
import SCANModel

/// How an index stores what it builds.
public struct BuildOptions: Sendable {
    /// Storage of the encoded regions: float16, int8 (a scale per region), float32, or product
    /// quantisation (pq4/pq8/pq16/pq32: one byte per 4/8/16/32 dimensions). nil: `defaultPrecision`.
    public var precision: Precision?
    /// Product quantisation: images (spread evenly over the source) whose encoded regions train the
    /// codebook when the index has none yet.
    public var codebookSampleImages = 1000
    /// Product quantisation: k-means settings of the codebook training.
    public var codebookTrainer = ProductQuantizerTrainer()
    /// Storage of the prefilter vectors (at most 4 KB per image).
    public var prefilterPrecision: Precision = .float16
    /// Images encoded and committed per LMDB transaction (the unit of resumption).
    public var batchSize = 128
    /// zstd level of region records (0: none).
    public var compressionLevel = 3
    /// Scan every feature value for NaN/inf before writing anything (a bad value found later would
    /// stop the build half way).
    public var checkValues = true
    /// `add --replace`: an id the index holds already is replaced (deleted and added in the batch's
    /// commit) instead of skipped.
    public var replace = false
    /// Progress with rate and ETA on stderr.
    public var showProgress = true
    public var mapSize = LMDBEnvironment.defaultMapSize
    /// Build shard `index` of `count`: only the images whose id hashes there (see `ShardMembership`).
    public var shard: (index: Int, count: Int)? = nil

    public init() {}
}

/// What a build or an add did.
public struct BuildReport: Sendable {
    public var indexPath: String
    /// Images in the source.
    public var sourceImages: Int
    /// Source images the index held already (skipped: a resumed build or a repeated add).
    public var alreadyPresent: Int
    /// Source images that belong to other shards of the index's shard set (not appended).
    public var otherShards: Int = 0
    /// Images appended by this run.
    public var appended: Int
    public var seconds: Double
    /// Time spent reading and encoding features (the rest is quantising, compressing and committing).
    public var encodeSeconds: Double
    public var manifest: IndexManifest

    public init(indexPath: String, sourceImages: Int, alreadyPresent: Int, otherShards: Int = 0, appended: Int, seconds: Double,
                encodeSeconds: Double, manifest: IndexManifest) {
        self.otherShards = otherShards
        self.indexPath = indexPath
        self.sourceImages = sourceImages
        self.alreadyPresent = alreadyPresent
        self.appended = appended
        self.seconds = seconds
        self.encodeSeconds = encodeSeconds
        self.manifest = manifest
    }

    public var imagesPerSecond: Double { seconds > 0 ? Double(appended) / seconds : 0 }

    public var summary: String {
        let skipped = alreadyPresent == 0 ? "" : String(format: "; %d of the source's %d ids already in the index (same source, skipped)",
                                                          alreadyPresent, sourceImages)
        let shard = manifest.shard.map { String(format: "; shard %d of %d: %d source images belong to other shards", $0.index, $0.count, otherShards) } ?? ""
        return String(format: "%@: %d images appended%@%@, %.1f s, %.1f images/s; the index holds %d images",
                      indexPath, appended, skipped, shard, seconds, imagesPerSecond, manifest.imageCount)
    }
}

/// Encodes images with a SCAN model and appends them to an index: the regions through the image
/// encoder, the prefilter vector from them, the metadata from the source; in batches, each one LMDB
/// commit, so that an interrupted build resumes where it stopped (ids already stored are skipped).
///
/// `build` and `add` are the two entry points; both check the source completely before they touch the index.
public final class IndexBuilder {
    public let indexPath: String
    public let model: IndexModel
    public let writer: IndexWriter
    public let options: BuildOptions

    private init(indexPath: String, model: IndexModel, writer: IndexWriter, options: BuildOptions) {
        self.indexPath = indexPath; self.model = model; self.writer = writer; self.options = options
    }

    /// The default region storage, chosen by the codec table (README): pq4 (9.2 KB per image at
    /// 36 x 1024 instead of 68 KB of float16 + zstd; two-stage R@1/R@10 within 0.5 points of exact
    /// search on float16 on the demo world) when embed_dim divides by 4, else float16.
    public static func defaultPrecision(embedDim: Int) -> Precision { Precision.pq4.supports(dim: embedDim) ? .pq4 : .float16 }

    /// The writer configuration for `model` with `options`.
    public static func configuration(for model: IndexModel, options: BuildOptions) -> IndexWriter.Configuration {
        IndexWriter.Configuration(modelFingerprint: model.fingerprint, modelName: model.name, embedDim: model.config.embedSize,
                                  imgDim: model.config.imgDim, precision: options.precision ?? defaultPrecision(embedDim: model.config.embedSize), prefilterKind: model.manifestPrefilterKind,
                                  prefilterDim: model.prefilter.dim, prefilterPrecision: options.prefilterPrecision,
                                  prefilterFingerprint: model.prefilterFingerprint, compressionLevel: options.compressionLevel,
                                  mapSize: options.mapSize, shard: shardMembership(for: model, options: options))
    }

    /// The manifest's shard entry for `options.shard` (nil for a whole index).
    public static func shardMembership(for model: IndexModel, options: BuildOptions) -> ShardMembership? {
        guard let s = options.shard else { return nil }
        let set = ShardMembership.setFingerprint(count: s.count, modelFingerprint: model.fingerprint, prefilterFingerprint: model.prefilterFingerprint,
                                                 precision: options.precision ?? defaultPrecision(embedDim: model.config.embedSize),
                                                 prefilterPrecision: options.prefilterPrecision)
        return ShardMembership(index: s.index, count: s.count, setFingerprint: set)
    }

    /// Checks that `source` fits `model` (feature dim; with `checkValues` every value finite).
    public static func validate(_ source: FeatureSource, model: IndexModel, checkValues: Bool) throws {
        guard source.count > 0 else { throw DatasetError.emptySource(file: source.sourceDescription) }
        try source.validate(expectedImgDim: model.config.imgDim, checkValues: checkValues)
    }

    /// Creates the index at `index` (or reopens it to resume an interrupted build) for `model`.
    /// A new index gets a copy of the model directory in `index/model` (copied atomically); an
    /// existing one must have been built by the same model with the same options.
    public static func open(creating index: String, model: IndexModel, options: BuildOptions) throws -> IndexBuilder {
        let index = (index as NSString).standardizingPath
        let fm = FileManager.default
        try fm.createDirectory(atPath: index, withIntermediateDirectories: true)
        IndexModel.removeStaleCopies(in: index)
        let copyDir = IndexLocation.modelDirectory(ofIndex: index)
        // An existing manifest must name this model before anything is copied or written.
        let existing = fm.fileExists(atPath: index + "/data.mdb") ? try? IndexReader(path: index, allowIncomplete: true).manifest : nil
        if let m = existing, m.modelFingerprint != model.fingerprint {
            throw SearchError.otherModel(index: index, indexFingerprint: m.modelFingerprint, model: model.directory, modelFingerprint: model.fingerprint)
        }
        // A resumed build without an explicit precision keeps the one it started with.
        var options = options
        if options.precision == nil, let m = existing { options.precision = m.precision }
        if fm.fileExists(atPath: copyDir) {
            let fp = try ModelDirectory(path: copyDir).fingerprint()
            guard fp == model.fingerprint else {
                throw SearchError.otherModel(index: index, indexFingerprint: fp, model: model.directory, modelFingerprint: model.fingerprint)
            }
            let pfPath = (copyDir as NSString).appendingPathComponent(Prefilter.fileName)
            let pf = fm.fileExists(atPath: pfPath) ? try IndexModel.fileFingerprint(pfPath) : nil
            guard pf == model.prefilterFingerprint else {
                throw SearchError.otherPrefilter(index: index, indexPrefilter: pf ?? "none (plain mean)", model: model.directory,
                                                 modelPrefilter: model.prefilterFingerprint ?? "none (plain mean)")
            }
        } else {
            try model.copy(to: copyDir)
        }
        let writer = try IndexWriter(path: index, configuration: configuration(for: model, options: options))
        return IndexBuilder(indexPath: index, model: model, writer: writer, options: options)
    }

    /// Opens an existing index for appending with its own model copy. `precision` and
    /// `prefilterPrecision` of `options` are ignored: the manifest's apply.
    /// `copy` is the index's model copy when the caller loaded it already.
    public static func open(appendingTo index: String, copy: IndexModel? = nil, options: BuildOptions) throws -> IndexBuilder {
        let index = (index as NSString).standardizingPath
        try IndexLocation.requireIndex(index)
        let manifest = try IndexReader(path: index, allowIncomplete: true).manifest
        let model = try copy ?? IndexModel.loadCopy(ofIndex: index, manifest: manifest)
        var o = options
        o.precision = manifest.precision
        o.prefilterPrecision = manifest.prefilterPrecision
        o.shard = manifest.shard.map { ($0.index, $0.count) }
        let writer = try IndexWriter(path: index, configuration: configuration(for: model, options: o))
        return IndexBuilder(indexPath: index, model: model, writer: writer, options: o)
    }

    /// Reads the items at `indices` (in parallel) and encodes their regions with the model.
    private func encodeItems(_ source: FeatureSource, _ indices: [Int]) throws -> ([FeatureItem], EmbeddingSet) {
        var loaded = [Result<FeatureItem, Error>?](repeating: nil, count: indices.count)
        loaded.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(indices.count) { k in out[k] = Result { try source.item(at: indices[k]) } }
        }
        let items = try loaded.map { try $0!.get() }
        var raw = EmbeddingSet(dim: source.imgDim)
        raw.data.reserveCapacity(items.reduce(0) { $0 + $1.features.count })
        for item in items {
            guard item.features.rank == 2, item.features.shape[1] == source.imgDim else {
                throw DatasetError.shapeMismatch(file: item.source, field: "record \(item.id): features", expected: "(regions, \(source.imgDim))", found: "\(item.features.shape)")
            }
            raw.append(item.features)
        }
        return (items, try model.model.encodeImages(raw, source: source.sourceDescription))
    }

    /// Trains and stores the codebook of a product-quantised index that has none, on the encoded
    /// regions of up to `codebookSampleImages` images spread evenly over `source`.
    func ensureCodebook(_ source: FeatureSource) throws {
        guard let subDim = writer.configuration.precision.subDim, writer.codebook == nil, source.count > 0 else { return }
        let n = min(source.count, max(1, options.codebookSampleImages))
        let indices = (0..<n).map { $0 * source.count / n }
        var samples: [Float] = []
        var rows = 0
        let batch = max(1, options.batchSize)
        for lo in stride(from: 0, to: n, by: batch) {
            let (_, encoded) = try encodeItems(source, Array(indices[lo..<min(n, lo + batch)]))
            samples.append(contentsOf: encoded.data)
            rows += encoded.totalRows
        }
        let pq = try options.codebookTrainer.train(samples, rows: rows, dim: model.config.embedSize, subDim: subDim)
        try writer.installCodebook(pq)
    }

    /// Appends every image of `source` the index does not hold yet, in batches.
    @discardableResult
    public func append(_ source: FeatureSource, label: String? = nil) throws -> BuildReport {
        let t0 = ProgressReporter.now()
        // The codebook of a pq index is trained on the whole source's sample, so that every shard of a
        // set built from the same source gets the same one (training is deterministic).
        try ensureCodebook(source)
        let shard = writer.configuration.shard
        let ids = source.ids
        let mine = shard.map { s in (0..<source.count).filter { s.contains(id: ids[$0]) } } ?? Array(0..<source.count)
        // With --replace, ids already in the index are replaced (delete + add in each batch's commit);
        // otherwise they are skipped when they came from this source and an error when from another.
        let existing = options.replace ? [] : try writer.existingIDs(mine.map { ids[$0] })
        let file = try SourceFile.identify(path: source.sourceDescription)
        if !existing.isEmpty { try checkSameSource(file, existing: existing, sourceCount: source.count) }
        try writer.register(file)
        let todo = mine.filter { !existing.contains(ids[$0]) }
        let progress = options.showProgress ? ProgressReporter(label: label ?? "index \((indexPath as NSString).lastPathComponent)", total: todo.count, unit: "images") : nil
        var appended = 0
        var encodeSeconds = 0.0
        let batch = max(1, options.batchSize)
        let prefilter = model.prefilter
        for start in stride(from: 0, to: todo.count, by: batch) {
            let indices = Array(todo[start..<min(todo.count, start + batch)])
            let te = ProgressReporter.now()
            // Sources are safe for concurrent reads.
            let (items, encoded) = try encodeItems(source, indices)
            let vectors = prefilter.vectors(encoded, side: .image)
            let p = vectors.shape[1]
            let records = items.enumerated().map { k, item in
                ImageRecord(id: item.id, source: item.source, captions: item.captions, boxes: item.boxes,
                            regions: encoded.item(k), prefilter: Array(vectors.data[(k * p)..<((k + 1) * p)]),
                            imageWidth: item.imageWidth, imageHeight: item.imageHeight)
            }
            encodeSeconds += ProgressReporter.now() - te
            let result = try writer.append(records, replace: options.replace)
            appended += result.appended
            if start + indices.count < todo.count { progress?.update(start + indices.count) }
        }
        progress?.finish()
        return BuildReport(indexPath: indexPath, sourceImages: source.count, alreadyPresent: existing.count, otherShards: source.count - mine.count,
                           appended: appended, seconds: ProgressReporter.now() - t0, encodeSeconds: encodeSeconds, manifest: writer.manifest)
    }

    /// Ids the index holds already may come from `file` only (a resumed build, a repeated add):
    /// ids of another source are an error, not images silently left out.
    func checkSameSource(_ file: SourceFile, existing: Set<String>, sourceCount: Int) throws {
        let known = writer.manifest.sourceFiles ?? []
        var others: [String] = []
        var otherCount = 0
        for (stored, n) in try writer.storedSources(ofIDs: existing) {
            let entries = known.filter { $0.path == stored }
            // Indexes written before source_files existed know their sources by description only.
            let same = entries.isEmpty ? stored == file.path : entries.contains { $0.sameContent(as: file) }
            if !same { others.append(stored); otherCount += n }
        }
        guard otherCount == 0 else {
            throw SearchError.idCollision(index: indexPath, source: file.path, count: otherCount, sourceCount: sourceCount,
                                          otherSources: others.sorted(), examples: existing.sorted().prefix(5).map { $0 })
        }
    }

    /// Marks the index complete (after checking its counts).
    public func markComplete() throws { try writer.markComplete() }

    /// Appends `source`, marks the index complete and reports with the final manifest.
    func appendAndComplete(_ source: FeatureSource) throws -> BuildReport {
        var report = try append(source)
        try markComplete()
        report.manifest = writer.manifest
        return report
    }

    /// `scan-index build`: checks the source, creates or resumes the index, appends, marks it complete.
    public static func build(index: String, modelDirectory: String, source: FeatureSource, options: BuildOptions = BuildOptions(),
                             log: (String) -> Void = { _ in }) throws -> BuildReport {
        let model = try IndexModel(directory: modelDirectory)
        if let w = model.prefilterWarning { log(w) }
        try validate(source, model: model, checkValues: options.checkValues)
        let builder = try open(creating: index, model: model, options: options)
        return try builder.appendAndComplete(source)
    }

    /// `scan-index add`: appends a source to an existing index with the index's own model copy.
    /// With `modelDirectory`, that model must be the index's (same fingerprint and prefilter).
    public static func add(index: String, source: FeatureSource, modelDirectory: String? = nil, options: BuildOptions = BuildOptions(),
                           log: (String) -> Void = { _ in }) throws -> BuildReport {
        let index = (index as NSString).standardizingPath
        try IndexLocation.requireIndex(index)
        let manifest = try IndexReader(path: index, allowIncomplete: true).manifest
        let model = try IndexModel.loadCopy(ofIndex: index, manifest: manifest)
        if let modelDirectory {
            let other = try IndexModel(directory: modelDirectory)
            guard other.fingerprint == model.fingerprint else {
                throw SearchError.otherModel(index: index, indexFingerprint: model.fingerprint, model: modelDirectory, modelFingerprint: other.fingerprint)
            }
            guard other.prefilterFingerprint == model.prefilterFingerprint else {
                throw SearchError.otherPrefilter(index: index, indexPrefilter: model.prefilterFingerprint ?? "none (plain mean)", model: modelDirectory,
                                                 modelPrefilter: other.prefilterFingerprint ?? "none (plain mean)")
            }
        }
        try validate(source, model: model, checkValues: options.checkValues)
        let builder = try open(appendingTo: index, copy: model, options: options)
        return try builder.appendAndComplete(source)
    }
}
