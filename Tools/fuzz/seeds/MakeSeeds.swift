// Writes the seed corpora of the targets whose files the project's own writers make (the same calls the
// tests use): `Tools/fuzz/run.sh seeds DIR`. Linked like a fuzz target; it runs in LLVMFuzzerInitialize
// and exits before any fuzzing.
import Foundation
import SCANCore
import SCANModel
import SCANIndex

private func put(_ dir: String, _ target: String, _ name: String, _ bytes: [UInt8]) {
    let folder = "\(dir)/\(target)"
    try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try! Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
}

private func makeSeeds(_ dir: String) throws {
    var rng = SplitMix64(seed: 7)
    func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.next() % 2001) / 1000 - 1 } }

    // safetensors: one tensor of every dtype, with metadata, as the checkpoint converter writes them.
    var st = SafetensorsFile(metadata: ["format": "pt", "epoch": "3"])
    st.entries["img_enc.fc.weight"] = .float32(Tensor(shape: [4, 6], data: values(24)))
    st.entries["img_enc.fc.bias"] = .float16(Tensor(shape: [4], data: values(4)))
    st.entries["txt_enc.embed.weight"] = .float64((0..<12).map(Double.init), shape: [3, 4])
    st.entries["step"] = .int64([1200], shape: [])
    st.entries["lengths"] = .int32([5, 3, 2], shape: [3])
    put(dir, "safetensors", "all_dtypes.safetensors", st.serialized())
    put(dir, "safetensors", "empty.safetensors", SafetensorsFile().serialized())
    var one = SafetensorsFile()
    one.entries["x"] = .float32(Tensor(shape: [2, 0, 3], data: []))
    put(dir, "safetensors", "zero_size.safetensors", one.serialized())

    // config.json: the defaults, and the option combinations of the reference cases.
    put(dir, "config", "defaults.json", Array(try JSONValue.object(ModelConfig().json).serialized(pretty: true)))
    var c = ModelConfig()
    c.embedSize = 16; c.wordDim = 8; c.imgDim = 12; c.vocabSize = 40; c.biGRU = true; c.maxViolation = true
    c.crossAttn = .i2t; c.aggFunc = .mean; c.rawFeatureNorm = .softmax; c.precompEncType = .weightNorm
    c.extra["data_name"] = .string("f30k_precomp"); c.extra["logger_name"] = .string("runs/log")
    c.extra["resume"] = .string(""); c.extra["log_step"] = .number(10); c.extra["workers"] = .null
    put(dir, "config", "i2t_bigru.json", Array(try JSONValue.object(c.json).serialized(pretty: false)))

    // vocab.json: the builder's output for a few captions, and the specials only.
    var builder = VocabularyBuilder(threshold: 1)
    for caption in ["A man rides a horse.", "Two dogs don't play in the snow!", "Ein Café: \"crème brûlée\" & co."] {
        builder.add(caption: caption)
    }
    put(dir, "vocab", "small_vocab.json", Array(try builder.makeVocabulary().jsonData()))
    put(dir, "vocab", "specials_vocab.json", Array(try Vocabulary(words: []).jsonData()))

    // Stored records: every precision, compressed and not, regions and a prefilter vector. The first
    // byte selects the checksum fix-up of the record target (1: recompute, 0: keep).
    for precision in Precision.scalar {  // product quantisation needs a trained codebook: not seeded yet
        for level in [0, 3] {
            let codec = RecordCodec(precision: precision, compressionLevel: level)
            let regions = try codec.encodeRegions(Tensor(shape: [3, 8], data: values(24)))
            put(dir, "record", "regions_\(precision.rawValue)_zstd\(level).bin", [0] + regions)
            // Repetitive rows do shrink: these are stored compressed (and shuffled for float16/32).
            let smooth = Tensor(shape: [8, 16], data: (0..<128).map { Float($0 % 4) * 0.25 })
            let packed = try codec.encodeRegions(smooth)
            put(dir, "record", "smooth_\(precision.rawValue)_zstd\(level).bin", [0] + packed)
        }
        let vector = try RecordCodec(precision: precision).encodeVector(values(8))
        put(dir, "record", "vector_\(precision.rawValue).bin", [1] + vector)
    }

    // Product quantisation. Region records under the pqrecord target's four codebooks (byte 0: bits
    // 1-2 choose the codebook, bit 0 the checksum fix-up), plain and compressed; codebook records for
    // the codebook target (byte 1 chooses embed_dim in the target's list: 0 is 16, 4 is 64).
    // The codebooks' formula is the target's `fuzzCodebook` (and the replay test's).
    let pqShapes = [(16, 4, 256, Precision.pq4), (16, 8, 256, .pq8), (16, 4, 3, .pq4), (64, 16, 17, .pq16)]
    for (choice, (dim, sub, n, precision)) in pqShapes.enumerated() {
        let cb = try ProductQuantizer(dim: dim, subDim: sub, centroidCount: n, centroids: (0..<(dim * n)).map { Float(($0 * 37) % 101) / 50 - 1 })
        let tag = "\(precision.rawValue)_c\(n)"
        for level in [0, 3] {
            let codec = RecordCodec(precision: precision, compressionLevel: level, codebook: cb)
            put(dir, "pqrecord", "regions_\(tag)_zstd\(level).bin", [UInt8(choice << 1)] + (try codec.encodeRegions(Tensor(shape: [3, dim], data: values(3 * dim)))))
            // 40 equal rows: codes that repeat, stored compressed.
            let rows = Tensor(shape: [40, dim], data: (0..<(40 * dim)).map { Float($0 % dim) / Float(dim) - 0.5 })
            put(dir, "pqrecord", "repeated_\(tag)_zstd\(level).bin", [UInt8(choice << 1 | 1)] + (try codec.encodeRegions(rows)))
        }
        put(dir, "codebook", "codebook_dim\(dim)_sub\(sub)_c\(n).bin", [0, dim == 16 ? 0 : 4] + (try cb.record()))
    }

    // Image metadata records: with captions, boxes and size, and the bare minimum.
    let full = ImageMetadata(id: "1000092795.jpg", source: "features.tsv", captions: ["Two young guys with shaggy hair.", "Ein Café"],
                             boxes: values(8), imageWidth: 500, imageHeight: 375)
    put(dir, "metadata", "full.bin", [1] + (try full.encoded()))
    put(dir, "metadata", "bare.bin", [0] + (try ImageMetadata(id: "7", source: "test_ims.npy").encoded()))

    // The manifest: building and complete, mean and projection prefilters, with and without sources.
    let m1 = IndexManifest(modelFingerprint: "sha256:0123abcd", modelName: "f30k_t2i", embedDim: 1024, imgDim: 2048,
                           precision: .float16, prefilterKind: .mean, prefilterDim: 1024, prefilterPrecision: .float16,
                           createdAt: "2026-11-30T12:00:00Z")
    put(dir, "manifest", "building.json", try m1.jsonBytes())
    var m2 = m1
    m2.state = .complete; m2.imageCount = 1000; m2.regionCount = 36000; m2.precision = .int8
    m2.prefilterKind = .projection; m2.prefilterDim = 256; m2.prefilterFingerprint = "sha256:feed"
    m2.sources = ["data/f30k_precomp/test_ims.npy", "features.tsv"]; m2.updatedAt = "2026-11-30T12:30:00Z"
    put(dir, "manifest", "complete_projection.json", try m2.jsonBytes())
}

@_cdecl("LLVMFuzzerInitialize")
public func makeSeedsMain(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>>>) -> CInt {
    let args = CommandLine.arguments
    guard args.count == 2 else { fputs("usage: make-seeds DIR\n", stderr); exit(2) }
    do { try makeSeeds(args[1]) } catch { fputs("make-seeds: \(error)\n", stderr); exit(1) }
    exit(0)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func makeSeedsUnused(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { 0 }
