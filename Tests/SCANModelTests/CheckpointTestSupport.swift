import Foundation
import SCANModel
import TestSupport
import XCTest

/// Fixture paths and the torch-free Python helper (`Tools/tests/checkpoint_writer.py`) for the
/// checkpoint tests. python3 is required (a missing python3 fails, it does not skip).
enum CheckpointFixtures {
    static var directory: URL { ReferenceFixtures.directory }
    static let names = ["checkpoint_tiny_legacy.pth.tar", "checkpoint_tiny_zip.pth.tar"]
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static var writer: String { ReferenceFixtures.packageRoot.appendingPathComponent("Tools/tests/checkpoint_writer.py").path }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

    /// Runs the helper; fails the test with its output when it exits non-zero.
    @discardableResult
    static func python(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", writer] + arguments + ["--fixtures", directory.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            XCTFail("python3 checkpoint_writer.py \(arguments.joined(separator: " ")) exited with \(p.terminationStatus):\n\(String(decoding: out, as: UTF8.self))", file: file, line: line)
        }
        return p.terminationStatus
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "scan-ckpt-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The fixture's expected weights: name -> (shape, float32 bit patterns).
    static func expectedWeights() throws -> [String: ([Int], [UInt32])] {
        let st = try SafetensorsFile(path: directory.appendingPathComponent("checkpoint_tiny.safetensors").path)
        var out: [String: ([Int], [UInt32])] = [:]
        for name in st.names {
            let e = try st.entry(name)
            XCTAssertEqual(e.dtype, .F32)
            let bits = e.bytes.withUnsafeBytes { raw in (0..<(e.bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) } }
            out[name] = (e.shape, bits)
        }
        return out
    }

    static func fixtureJSON() throws -> JSONValue {
        try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("checkpoint_tiny.json")))
    }
}
