import Foundation
import SCANCore
import TestSupport
import XCTest

final class SafetensorsTests: XCTestCase {
    var tmp: String!
    override func setUpWithError() throws { tmp = makeTempDir(self, "scan-st") }

    func sample() -> SafetensorsFile {
        var f = SafetensorsFile(metadata: ["kind": "test", "note": "ünïcode"])
        f.entries["a.f32"] = .float32(Tensor(shape: [2, 3], data: [1, -2, 3.5, .infinity, -0, 1e-40]))
        f.entries["b.f16"] = .float16(Tensor(shape: [3], data: [0.5, -1, 65504]))
        f.entries["c.f64"] = .float64([1.0 / 3, -2e300], shape: [2])
        f.entries["d.i64"] = .int64([Int64.max, -5, 0], shape: [3])
        f.entries["e.i32"] = .int32([7, -8], shape: [1, 2])
        f.entries["scalar"] = .float32(Tensor(shape: [], data: [4]))
        return f
    }

    func testRoundTripOfEveryDTypeIsBitExact() throws {
        let f = sample()
        try f.write(to: tmp + "/s.safetensors")
        let g = try SafetensorsFile(path: tmp + "/s.safetensors")
        XCTAssertEqual(g.metadata, f.metadata)
        XCTAssertEqual(g.names, f.names)
        for n in f.names {
            XCTAssertEqual(g.entries[n]!.bytes, f.entries[n]!.bytes, n)
            XCTAssertEqual(g.entries[n]!.shape, f.entries[n]!.shape, n)
            XCTAssertEqual(g.entries[n]!.dtype, f.entries[n]!.dtype, n)
        }
        XCTAssertEqual(try g.ints("d.i64"), [Int(Int64.max), -5, 0])
        XCTAssertEqual(try g.doubles("c.f64"), [1.0 / 3, -2e300])
        XCTAssertEqual(try g.tensor("b.f16").data, [0.5, -1, 65504])
        XCTAssertEqual(try g.shape("scalar"), [])
        // Writing what was read gives the same bytes.
        XCTAssertEqual(g.serialized(), f.serialized())
    }

    func testReferenceFilesWrittenByThePythonPackageRead() throws {
        let cases = try ReferenceFixtures.cases()
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            XCTAssertEqual(c.tensors.metadata["kind"], c.kind, c.name)
            // Every tensor listed in the JSON is there with its dtype and shape.
            for (name, desc) in c.json["tensors"]?.object ?? [:] {
                let e = try c.tensors.entry(name)
                let text = desc.string!
                let dtype = String(text.prefix { $0 != "[" })
                XCTAssertEqual(["float32": "F32", "float64": "F64", "int64": "I64", "float16": "F16", "int32": "I32"][dtype], e.dtype.rawValue, "\(c.name) \(name)")
                XCTAssertEqual("[" + e.shape.map(String.init).joined(separator: ", ") + "]", String(text.drop { $0 != "[" }), "\(c.name) \(name)")
            }
        }
    }

    func testTruncatedGarbageAndWrongDTypeGiveTypedErrors() throws {
        let bytes = sample().serialized()
        try Data(bytes.prefix(bytes.count - 3)).write(to: URL(fileURLWithPath: tmp + "/t.safetensors"))
        XCTAssertThrowsError(try SafetensorsFile(path: tmp + "/t.safetensors")) { err in
            guard case .truncated(let file, _, _)? = err as? FormatError else { return XCTFail("\(err)") }
            XCTAssertEqual(file, self.tmp + "/t.safetensors")
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: tmp + "/tiny.safetensors"))
        XCTAssertThrowsError(try SafetensorsFile(path: tmp + "/tiny.safetensors"))
        var garbage = [UInt8](repeating: 0, count: 8)
        garbage[0] = 10
        garbage += Array("not json!!".utf8)
        try Data(garbage).write(to: URL(fileURLWithPath: tmp + "/g.safetensors"))
        XCTAssertThrowsError(try SafetensorsFile(path: tmp + "/g.safetensors")) { err in
            XCTAssertEqual(err as? FormatError, .badHeader(file: tmp + "/g.safetensors", reason: "header is not a JSON object"))
        }
        var bf16 = [UInt8](repeating: 0, count: 8)
        let header = Array(#"{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#.utf8)
        bf16[0] = UInt8(header.count)
        bf16 += header + [0, 0]
        try Data(bf16).write(to: URL(fileURLWithPath: tmp + "/bf16.safetensors"))
        XCTAssertThrowsError(try SafetensorsFile(path: tmp + "/bf16.safetensors")) { err in
            XCTAssertEqual(err as? FormatError, .unsupportedDType(file: tmp + "/bf16.safetensors", field: "x", dtype: "BF16"))
        }
        let f = sample()
        XCTAssertThrowsError(try f.tensor("d.i64")) { err in
            guard case .unsupportedDType? = err as? FormatError else { return XCTFail("\(err)") }
        }
        XCTAssertThrowsError(try f.tensor("nope")) { err in
            XCTAssertEqual(err as? FormatError, .missingTensor(file: "<memory>", name: "nope"))
        }
    }
}
