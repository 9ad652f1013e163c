import Foundation
@testable import SCANModel
import TestSupport
import XCTest

/// The checkpoint conversion against `Tools/convert_checkpoint.py`'s own rules, without PyTorch:
/// the expected model.safetensors and config.json are written by the converter's functions
/// (`safetensors_bytes`, `weight_facts`, `resolve_options`, via `Tools/tests/checkpoint_writer.py
/// expected`) from the fixture's tensors and options, independently of the Swift reader; the Swift
/// conversion of both fixture checkpoints must equal them byte for byte. (The converter's own test
/// script, `Tools/tests/test_convert_checkpoint.py`, needs torch and is run by hand.)
final class ConverterTests: XCTestCase {
    func testConversionEqualsConvertCheckpointPyByteForByte() throws {
        let dir = try CheckpointFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let vocab = dir + "/tiny_vocab.json"
        try Vocabulary(words: (0..<36).map { "word\($0)" }).write(to: vocab)
        for name in CheckpointFixtures.names {
            let expected = "\(dir)/expected-\(name)"
            XCTAssertEqual(try CheckpointFixtures.python(["expected", expected, "--source", name]), 0)
            let out = "\(dir)/\(name).model"
            let converted = try ConvertedCheckpoint(path: CheckpointFixtures.path(name), vocabulary: vocab)
            XCTAssertEqual(converted.conversion.warnings, [])
            try converted.write(to: out)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["config.json", "model.safetensors", "vocab.json"])
            for file in ["model.safetensors", "config.json"] {
                let got = try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(file)"))
                let want = try Data(contentsOf: URL(fileURLWithPath: "\(expected)/\(file)"))
                XCTAssertFalse(want.isEmpty)
                XCTAssertEqual(got, want, "\(name): \(file) differs from what convert_checkpoint.py writes")
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/vocab.json")), try Data(contentsOf: URL(fileURLWithPath: vocab)))
            // The directory loads as a model directory, and the in-memory model is the same one.
            let (fromDir, v) = try ModelDirectory(path: out).load()
            let (inMemory, _) = try converted.load()
            XCTAssertEqual(fromDir.config, inMemory.config)
            XCTAssertEqual(v.count, 40)
            let st = try SafetensorsFile(path: out + "/model.safetensors")
            XCTAssertEqual(st.metadata, ["format": "scan-swift-model", "source": name, "epoch": "3", "best_rsum": "123.4", "Eiters": "1234"])
            let ref = try SafetensorsFile(path: CheckpointFixtures.directory.appendingPathComponent("checkpoint_tiny.safetensors").path)
            XCTAssertEqual(st.names, ref.names)
            for n in ref.names { XCTAssertEqual(try st.entry(n).bytes, try ref.entry(n).bytes, n) }
        }
    }

    /// Python's float repr and json.dumps layout, checked against python3 itself.
    func testPythonJSONMatchesPython() throws {
        let values: [Double] = [0.0002, 1e-05, 123.4, 2.0, 1e16, 1e15, 0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308, 123456789.125, 1e-4, 0.00012]
        let dir = try CheckpointFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sys, json; print('\\n'.join(repr(float(x)) for x in sys.argv[1:])); print(json.dumps({'b': [1, 2.5, 'caf\\u00e9\\n\"', None, True, {}], 'a': {'z': [], 'y': 'x'}}, indent=2, sort_keys=True))"]
            + values.map { String($0) }
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let ours = values.map { OptionValue.float($0).pythonRepr }
        XCTAssertEqual(ours, Array(lines.prefix(values.count)))
        let json = OptionValue.dict([("b", .list([.int(1), .float(2.5), .string("caf\u{e9}\n\""), .none, .bool(true), .dict([])])),
                                     ("a", .dict([("z", .list([])), ("y", .string("x"))]))])
        XCTAssertEqual(PythonJSON.pretty(json) + "\n", lines.dropFirst(values.count).joined(separator: "\n"))
    }
}
