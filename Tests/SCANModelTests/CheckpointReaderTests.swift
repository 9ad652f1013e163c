import Foundation
import SCANModel
import TestSupport
import XCTest

/// The original checkpoint reader (`OriginalCheckpoint`) on the fixture checkpoints written by the
/// original code with torch (legacy and zip layouts) and on checkpoints written here by Python's own
/// pickle module without torch (`Tools/tests/checkpoint_writer.py`).
final class CheckpointReaderTests: XCTestCase {
    func assertWeightsEqualFixture(_ ckpt: OriginalCheckpoint, dropReverse: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        var expected = try CheckpointFixtures.expectedWeights()
        if dropReverse { expected = expected.filter { !$0.key.hasSuffix("_reverse") } }
        XCTAssertEqual(Set(ckpt.weights.map(\.name)), Set(expected.keys), file: file, line: line)
        for w in ckpt.weights {
            guard let (shape, bits) = expected[w.name] else { continue }
            XCTAssertEqual(w.shape, shape, w.name, file: file, line: line)
            XCTAssertEqual(w.values.map(\.bitPattern), bits, "\(ckpt.file): \(w.name) differs", file: file, line: line)
        }
    }

    func testFixturesLoadToTheExpectedTensorsAndOptions() throws {
        let json = try CheckpointFixtures.fixtureJSON()
        let rawJSON = try String(contentsOf: CheckpointFixtures.directory.appendingPathComponent("checkpoint_tiny.json"), encoding: .utf8)
        guard let opt = json["opt_namespace"]?.object else { return XCTFail("no opt_namespace in checkpoint_tiny.json") }
        for (name, layout) in zip(CheckpointFixtures.names, ["legacy", "zip"]) {
            let ckpt = try OriginalCheckpoint(path: CheckpointFixtures.path(name))
            XCTAssertEqual(ckpt.layout, layout)
            try assertWeightsEqualFixture(ckpt)
            // Original order: img_enc first, then txt_enc.
            XCTAssertEqual(ckpt.weights.prefix(2).map(\.name), ["img_enc.fc.weight", "img_enc.fc.bias"])
            guard let options = ckpt.options else { return XCTFail("\(name): no opt") }
            XCTAssertEqual(Set(options.map(\.0)), Set(opt.keys), name)
            for (key, value) in options {
                let want = opt[key]
                switch value {
                case let .int(i):
                    XCTAssertEqual(want, .number(Double(i)), "\(name): opt.\(key)")
                    XCTAssertTrue(rawJSON.contains("\"\(key)\": \(i),") || rawJSON.contains("\"\(key)\": \(i)\n"), "\(name): opt.\(key) is an int in the checkpoint but not in the fixture")
                case let .float(d):
                    XCTAssertEqual(want, .number(d), "\(name): opt.\(key)")
                    XCTAssertFalse(rawJSON.contains("\"\(key)\": \(Int(d)),"), "\(name): opt.\(key) is a float in the checkpoint but an int in the fixture")
                case let .bool(b): XCTAssertEqual(want, .bool(b), "\(name): opt.\(key)")
                case let .string(s): XCTAssertEqual(want, .string(s), "\(name): opt.\(key)")
                default: XCTFail("\(name): opt.\(key) = \(value)")
                }
            }
            XCTAssertEqual(ckpt.counters.map(\.0), ["epoch", "best_rsum", "Eiters"])
            XCTAssertEqual(ckpt.counters.map(\.1), [.int(Int64(json["epoch"]?.number ?? -1)), .float(json["best_rsum"]?.number ?? -1), .int(Int64(json["Eiters"]?.number ?? -1))])
        }
    }

    func testEntryFromBytesEqualsEntryFromFile() throws {
        for name in CheckpointFixtures.names {
            let a = try OriginalCheckpoint(bytes: CheckpointFixtures.bytes(name), file: name)
            let b = try OriginalCheckpoint(path: CheckpointFixtures.path(name))
            XCTAssertEqual(a.weights.map(\.values), b.weights.map(\.values))
        }
    }

    /// Checkpoints written by Python's pickle without torch: old options, Python 2 strings, float64
    /// storages, non-contiguous views, the torch 0.3 `_rebuild_tensor`; in both layouts.
    func testSyntheticCheckpointsWrittenWithoutTorch() throws {
        let dir = try CheckpointFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for layout in ["legacy", "zip"] {
            for variant in ["full", "double", "strided", "py2", "old"] {
                let path = "\(dir)/\(variant)-\(layout).pth.tar"
                try CheckpointFixtures.python(["synthetic", path, "--layout", layout, "--variant", variant])
                let ckpt = try OriginalCheckpoint(path: path)
                XCTAssertEqual(ckpt.layout, layout)
                try assertWeightsEqualFixture(ckpt, dropReverse: variant == "old")
                let conv = try CheckpointConversion(ckpt)
                let config = Dictionary(conv.config, uniquingKeysWith: { a, _ in a })
                switch variant {
                case "py2":
                    XCTAssertEqual(config["logger_name"], .string("./runs/caf\u{e9}/log"))
                    XCTAssertEqual(config["cross_attn"], .string("t2i"))
                    XCTAssertEqual(conv.filledDefaults, [])
                case "old":
                    // The converter's rules: missing options filled in TRAIN_DEFAULTS order, then
                    // vocab_size; bi_gru and the sizes from the weights.
                    XCTAssertEqual(conv.filledDefaults, ["bi_gru", "no_txtnorm", "precomp_enc_type", "raw_feature_norm", "agg_func",
                                                         "cross_attn", "lambda_lse", "lambda_softmax", "vocab_size"])
                    XCTAssertEqual(config["bi_gru"], .bool(false))
                    XCTAssertEqual(config["precomp_enc_type"], .string("basic"))
                    XCTAssertEqual(config["lambda_lse"], .float(6.0))
                    XCTAssertEqual(config["vocab_size"], .int(40))
                    XCTAssertEqual(config["embed_size"], .int(16), "options present in opt are kept")
                    XCTAssertEqual(config["filled_defaults"], .list(conv.filledDefaults.map { .string($0) }))
                default:
                    XCTAssertEqual(conv.filledDefaults, [])
                }
            }
            // An option no integer can hold: converted as the converter would, refused by the engine's config.
            let huge = "\(dir)/hugeopt-\(layout).pth.tar"
            try CheckpointFixtures.python(["synthetic", huge, "--layout", layout, "--variant", "hugeopt"])
            let conv = try CheckpointConversion(try OriginalCheckpoint(path: huge))
            XCTAssertThrowsError(try conv.modelConfig(file: huge)) { err in
                guard case let .invalidOption(_, field, _)? = err as? ModelError else { return XCTFail("\(err)") }
                XCTAssertEqual(field, "batch_size")
            }
            // An int64 tensor in the state dict: loaded by the pickle machine, refused by name.
            let path = "\(dir)/long-\(layout).pth.tar"
            try CheckpointFixtures.python(["synthetic", path, "--layout", layout, "--variant", "long"])
            XCTAssertThrowsError(try OriginalCheckpoint(path: path)) { err in
                guard case let .badTensor(_, tensor, reason)? = err as? CheckpointError else { return XCTFail("\(err)") }
                XCTAssertEqual(tensor, "img_enc.fc.steps")
                XCTAssertTrue(reason.contains("int64"), reason)
            }
        }
    }

    /// The fuzzing seeds (Tools/fuzz/corpus/checkpoint) are valid checkpoints: the fixtures and
    /// small ones written by checkpoint_writer.py (variants small, small-py2).
    func testFuzzingSeedsLoadAndConvert() throws {
        let dir = ReferenceFixtures.packageRoot.appendingPathComponent("Tools/fuzz/corpus/checkpoint").path
        let seeds = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertGreaterThanOrEqual(seeds.count, 6)
        for seed in seeds {
            let ckpt = try OriginalCheckpoint(path: dir + "/" + seed)
            let conv = try CheckpointConversion(ckpt)
            XCTAssertEqual(conv.filledDefaults, [], seed)
            XCTAssertTrue(seed.contains("small") ? conv.vocabSize == 5 : conv.vocabSize == 40, seed)
        }
    }

    func testForbiddenGlobalIsRefusedAndNothingRuns() throws {
        let dir = try CheckpointFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for layout in ["legacy", "zip"] {
            for (flag, module) in [([String](), "posix"), (["--as-os"], "os")] {
                let marker = "\(dir)/ran-\(layout)-\(module)"
                let path = "\(dir)/evil-\(layout)-\(module).pth.tar"
                try CheckpointFixtures.python(["evil", path, "--layout", layout, "--marker", marker] + flag)
                XCTAssertThrowsError(try OriginalCheckpoint(path: path)) { err in
                    guard case let .forbiddenGlobal(file, m, name, _)? = err as? CheckpointError else { return XCTFail("\(err)") }
                    XCTAssertEqual([file, m, name], [path, module, "system"])
                    XCTAssertTrue("\(err)".contains("\(module).system"), "\(err)")
                }
                XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the pickle ran")
                if layout == "legacy" {
                    // The file is really malicious: Python's own pickle runs it.
                    try CheckpointFixtures.python(["prove", path])
                    XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "Python's pickle did not run the os.system call")
                }
            }
        }
    }

    /// Every truncation of both fixtures is a typed error; never a crash.
    func testTruncatedCheckpointsGiveTypedErrors() throws {
        for name in CheckpointFixtures.names {
            let bytes = try CheckpointFixtures.bytes(name)
            var lengths = Array(0..<min(bytes.count, 3000))
            lengths += Array(stride(from: 3000, to: bytes.count, by: 7)) + [bytes.count - 1]
            var kinds: [String: Int] = [:]
            for n in lengths {
                do {
                    _ = try OriginalCheckpoint(bytes: Array(bytes[0..<n]), file: name)
                    XCTFail("\(name) cut to \(n) of \(bytes.count) bytes loaded")
                } catch let e as CheckpointError {
                    kinds[String("\(e)".split(separator: ":").dropFirst().first ?? ""), default: 0] += 1
                } catch {
                    XCTFail("\(name) cut to \(n): an untyped error \(error)")
                }
            }
            XCTAssertFalse(kinds.isEmpty)
        }
    }

    /// A single-bit flip at every byte of the pickles and every 5th byte of the storages (the bit
    /// cycling through the 8), and 500 random multi-byte corruptions: a typed error or a load, never a crash. In the zip layout the
    /// CRC catches every flip inside a storage.
    func testBitFlippedCheckpointsGiveTypedErrors() throws {
        var rng = SplitMix64(seed: 13)
        for name in CheckpointFixtures.names {
            let original = try CheckpointFixtures.bytes(name)
            var loaded = 0, refused = 0, flips = 0
            func attempt(_ b: [UInt8], _ what: String) -> OriginalCheckpoint? {
                do {
                    let c = try OriginalCheckpoint(bytes: b, file: name)
                    loaded += 1
                    return c
                } catch is CheckpointError {
                    refused += 1
                } catch {
                    XCTFail("\(name) \(what): an untyped error \(error)")
                }
                return nil
            }
            for i in 0..<original.count where i < 2600 || i % 5 == 0 {
                var b = original
                b[i] ^= UInt8(1 << (i % 8))
                flips += 1
                _ = attempt(b, "bit \(i % 8) of byte \(i) flipped")
            }
            for k in 0..<500 {
                var b = original
                for _ in 0..<(1 + Int(rng.next() % 8)) {
                    let i = Int(rng.next() % UInt64(b.count))
                    b[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                _ = attempt(b, "random corruption \(k)")
            }
            XCTAssertGreaterThan(refused, 0)
            if name.contains("zip") {
                // A flip inside storage data/0 (the first storage) must be caught by the CRC.
                let ckpt = try OriginalCheckpoint(bytes: original, file: name)
                XCTAssertFalse(ckpt.weights.isEmpty)
                guard let pos = Self.find(Array("data/0".utf8), in: original) else { return XCTFail("no data/0 entry") }
                var caught = false
                for offset in stride(from: pos + 64, to: pos + 1600, by: 97) {
                    var c = original
                    c[offset] ^= 0x10
                    do { _ = try OriginalCheckpoint(bytes: c, file: name) } catch let e as CheckpointError {
                        if case .badZip = e { caught = true }
                    }
                }
                XCTAssertTrue(caught, "no CRC error for flips in data/0")
            }
            print("\(name): \(flips) bit flips + 500 random corruptions: \(loaded) loaded, \(refused) refused")
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    // MARK: - Hand-written pickles: the machine's limits

    /// The legacy layout's three header pickles, then `main`, an empty key list.
    func legacy(_ main: [UInt8]) throws -> [UInt8] {
        let fixture = try CheckpointFixtures.bytes("checkpoint_tiny_legacy.pth.tar")
        return Array(fixture[0..<137]) + main + [0x80, 0x02, 0x5d, 0x2e]  // PROTO 2, EMPTY_LIST, STOP
    }

    func refusal(_ bytes: [UInt8]) -> CheckpointError? {
        do { _ = try OriginalCheckpoint(bytes: bytes, file: "t.pth.tar"); return nil } catch { return error as? CheckpointError }
    }

    func testUnknownOpcodeAndMalformedPicklesAreNamed() throws {
        // 'i' (INST) is not implemented: it would import and call.
        guard case let .unsupportedOpcode(_, op, _)? = refusal(try legacy([0x80, 0x02, 0x69, 0x2e])) else { return XCTFail() }
        XCTAssertEqual(op, 0x69)
        // BINGET of a slot never written; STOP on an empty stack; APPEND to a dict.
        for main: [UInt8] in [[0x80, 0x02, 0x68, 0x05, 0x2e], [0x80, 0x02, 0x2e], [0x80, 0x02, 0x7d, 0x4b, 0x01, 0x61, 0x2e]] {
            guard case .malformedPickle? = refusal(try legacy(main)) else { return XCTFail("\(main): \(String(describing: refusal(try legacy(main))))") }
        }
        // A global outside the allow-list by STACK_GLOBAL too.
        let stackGlobal: [UInt8] = [0x80, 0x04, 0x8c, 0x08] + Array("builtins".utf8) + [0x8c, 0x04] + Array("eval".utf8) + [0x93, 0x2e]
        guard case let .forbiddenGlobal(_, m, n, _)? = refusal(try legacy(stackGlobal)) else { return XCTFail() }
        XCTAssertEqual([m, n], ["builtins", "eval"])
    }

    /// A tensor whose shape claims far more than the file holds (stride 0 over one element) is refused
    /// before anything is allocated; so is a storage count beyond the file.
    func testMemoryIsBoundedByTheFileSize() throws {
        func int(_ v: UInt64) -> [UInt8] { [0x8a, 0x08] + withUnsafeBytes(of: v.littleEndian, Array.init) }  // LONG1, 8 bytes
        func pickle(shape: [UInt64], stride: [UInt64], count: UInt32) -> [UInt8] {
            var p: [UInt8] = [0x80, 0x02, 0x7d, 0x58, 0x05, 0, 0, 0] + Array("model".utf8)
            p += [0x5d, 0x63] + Array("collections\nOrderedDict\n".utf8) + [0x29, 0x52]  // [OrderedDict()
            p += [0x58, 0x09, 0, 0, 0] + Array("fc.weight".utf8)
            p += [0x63] + Array("torch._utils\n_rebuild_tensor\n".utf8) + [0x28]
            p += [0x28, 0x58, 0x07, 0, 0, 0] + Array("storage".utf8) + [0x63] + Array("torch\nFloatStorage\n".utf8)
            p += [0x58, 0x01, 0, 0, 0, 0x30, 0x58, 0x03, 0, 0, 0] + Array("cpu".utf8) + [0x4a] + withUnsafeBytes(of: count.littleEndian, Array.init) + [0x4e, 0x74, 0x51]
            p += [0x4b, 0x00, 0x28] + shape.flatMap(int) + [0x74]
            p += [0x28] + stride.flatMap(int) + [0x74]
            p += [0x74, 0x52, 0x73]  // tensor, SETITEM into the OrderedDict
            p += [0x61, 0x7d, 0x61, 0x73, 0x2e]  // both dicts appended to the list; 'model' set; STOP
            return p
        }
        func file(_ main: [UInt8], storageCount: UInt64, data: [UInt8]) throws -> [UInt8] {
            let fixture = try CheckpointFixtures.bytes("checkpoint_tiny_legacy.pth.tar")
            let keys: [UInt8] = [0x80, 0x02, 0x5d, 0x58, 0x01, 0, 0, 0, 0x30, 0x61, 0x2e]
            return Array(fixture[0..<137]) + main + keys + withUnsafeBytes(of: storageCount.littleEndian, Array.init) + data
        }
        let one: [UInt8] = [0, 0, 0x80, 0x3f]
        // Sanity: the hand-made file loads when it is consistent.
        let ok = try OriginalCheckpoint(bytes: try file(pickle(shape: [1, 1], stride: [1, 1], count: 1), storageCount: 1, data: one), file: "t")
        XCTAssertEqual(ok.weights.first?.values, [1])
        // 2^31 x 2^31 elements with stride 0: would be 16 EiB of floats.
        let huge = pickle(shape: [0x7fff_ffff, 0x7fff_ffff], stride: [0, 0], count: 1)
        guard case let .badTensor(_, t, reason)? = refusal(try file(huge, storageCount: 1, data: one)) else { return XCTFail() }
        XCTAssertEqual(t, "img_enc.fc.weight")
        XCTAssertTrue(reason.contains("more data than the file holds"), reason)
        // Size-1 dimensions with the largest strides: one element, read without overflow.
        let wide = try OriginalCheckpoint(bytes: try file(pickle(shape: [1, 1], stride: [UInt64(Int64.max), UInt64(Int64.max)], count: 1), storageCount: 1, data: one), file: "t")
        XCTAssertEqual(wide.weights.first?.values, [1])
        // An empty tensor declaring a dimension of 2^40 (nothing to read, but sizes computed from it would overflow).
        guard case let .badTensor(_, _, r0)? = refusal(try file(pickle(shape: [1 << 40, 0], stride: [1, 1], count: 1), storageCount: 1, data: one)) else { return XCTFail() }
        XCTAssertTrue(r0.contains("beyond 2^31"), r0)
        // A stride that runs past the end of its storage.
        guard case let .badTensor(_, _, r2)? = refusal(try file(pickle(shape: [2, 2], stride: [2, 1], count: 3), storageCount: 3, data: one + one + one)) else { return XCTFail() }
        XCTAssertTrue(r2.contains("storage 0"), r2)
        // A storage declared with 2^31 elements in a file of a few hundred bytes.
        guard case .truncated? = refusal(try file(pickle(shape: [1], stride: [1], count: 0x7fff_ffff), storageCount: 0x7fff_ffff, data: one)) else { return XCTFail() }
        // The storage's own count disagrees with the pickle.
        guard case .badStorage? = refusal(try file(pickle(shape: [1, 1], stride: [1, 1], count: 1), storageCount: 2, data: one + one)) else { return XCTFail() }
    }

    /// Deep nesting and long memo chains do not recurse: a million nested lists load (as a non-SCAN
    /// object) without exhausting the stack.
    func testDeepNestingDoesNotRecurse() throws {
        var main: [UInt8] = [0x80, 0x02]
        main += [UInt8](repeating: 0x5d, count: 200_000)  // EMPTY_LIST x n
        main += [UInt8](repeating: 0x61, count: 199_999)  // APPEND x (n-1): each list into the one below
        main += [0x2e]
        guard case .notSCANCheckpoint? = refusal(try legacy(main)) else { return XCTFail("\(String(describing: refusal(try legacy(main))))") }
    }
}
