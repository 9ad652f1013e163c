import Foundation
import SCANTraining

extension DemoWorld {
    /// The vocabulary file names written next to the splits: the name `scan-train` looks for and the
    /// original's `{data_name}_vocab.json` for data name `demo_precomp`.
    public static let vocabularyFileNames = ["vocab.json", "demo_precomp_vocab.json"]

    /// The files `write(to:)` creates, in the order it writes them.
    public static var fileNames: [String] {
        DemoWorldSplit.allCases.flatMap { ["\($0.rawValue)_caps.txt", "\($0.rawValue)_ims.npy"] }
            + vocabularyFileNames + [DemoWorldManifest.fileName]
    }

    /// Writes the world into `folder` (created if needed) in the original's precomp layout:
    /// `{train,dev,test}_ims.npy` (float32, images x regions x imgDim), `{train,dev,test}_caps.txt`
    /// (5 consecutive captions per image), the vocabulary of the train and dev captions (threshold
    /// `options.vocabularyThreshold`) as `vocab.json` and `demo_precomp_vocab.json`, and `world.json`.
    ///
    /// Features are streamed to disk a batch of images at a time; every file is written under a
    /// temporary name and renamed when complete. The same options give byte-identical files.
    /// Progress goes to stderr when `progress` is true (and `SCAN_QUIET` is not set).
    @discardableResult
    public func write(to folder: String, progress: Bool = true) throws -> DemoWorldManifest {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw DemoWorldError.writeFailed(path: folder, reason: "\(error)")
        }
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

        var summaries: [DemoWorldManifest.SplitSummary] = []
        var testImages: [DemoWorldImage] = []
        for split in DemoWorldSplit.allCases {
            let images = self.images(split)
            try writeCaptions(images, split: split, to: path("\(split.rawValue)_caps.txt"))
            try writeFeatures(images, split: split, to: path("\(split.rawValue)_ims.npy"), progress: progress)
            summaries.append(.init(name: split.rawValue, images: images.count,
                                   captions: images.count * DemoWorldOptions.captionsPerImage, pairs: pairCount(split)))
            if split == .test { testImages = images }
        }

        let vocabulary = try VocabularyBuilder.build(captionFiles: VocabularyBuilder.captionFiles(datasetDirectory: folder),
                                                     threshold: options.vocabularyThreshold)
        let vocabularyBytes = [UInt8](vocabulary.jsonData())
        for name in Self.vocabularyFileNames { try DemoWorldFileWriter.write(vocabularyBytes, to: path(name)) }

        let manifest = DemoWorldManifest(
            options: options, features: featureSettings, files: Self.fileNames, vocabularySize: vocabulary.count,
            splits: summaries,
            concepts: .init(objects: catalog.objects, attributes: catalog.attributes, scenes: catalog.scenes, actions: catalog.actions),
            testImages: testImages)
        try DemoWorldFileWriter.write(try manifest.jsonBytes(), to: path(DemoWorldManifest.fileName))
        return manifest
    }

    /// One caption per line, 5 consecutive lines per image, a final newline.
    func writeCaptions(_ images: [DemoWorldImage], split: DemoWorldSplit, to path: String) throws {
        var captions = [[String]](repeating: [], count: images.count)
        captions.withUnsafeMutableBufferPointer { out in
            Parallel.forChunks(images.count, minChunk: 16) { range in
                for row in range { out[row] = self.captions(for: images[row], row: row, split: split) }
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(images.count * 5 * 64)
        for line in captions.joined() {
            bytes += Array(line.utf8)
            bytes.append(0x0A)
        }
        try DemoWorldFileWriter.write(bytes, to: path)
    }

    /// Streams the features: a batch of images rendered in parallel, then appended to the file.
    func writeFeatures(_ images: [DemoWorldImage], split: DemoWorldSplit, to path: String, progress: Bool) throws {
        let perImage = options.regions * options.imgDim
        let writer = try DemoWorldNPYWriter(path: path, shape: [images.count, options.regions, options.imgDim])
        let reporter = progress ? ProgressReporter(label: (path as NSString).lastPathComponent, total: images.count, unit: "images") : nil
        // About 16 MB of features per batch, at least one image per core.
        let batch = max(Parallel.cores, min(images.count, (16 << 20) / (perImage * 4)))
        var buffer = [Float](repeating: 0, count: min(batch, images.count) * perImage)
        var start = 0
        do {
            while start < images.count {
                let n = min(batch, images.count - start)
                buffer.withUnsafeMutableBufferPointer { b in
                    Parallel.forChunks(n) { range in
                        for k in range {
                            let slice = UnsafeMutableBufferPointer(rebasing: b[(k * perImage)..<((k + 1) * perImage)])
                            renderer.render(image: images[start + k], row: start + k, split: split, into: slice)
                        }
                    }
                }
                try buffer.withUnsafeBufferPointer { try writer.append(UnsafeBufferPointer(rebasing: $0[0..<(n * perImage)])) }
                start += n
                if start < images.count { reporter?.update(start) }
            }
            try writer.finish()
        } catch {
            writer.discard()
            throw error
        }
        reporter?.finish()
    }
}
