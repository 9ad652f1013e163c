import Foundation
import SCANCore
import TestSupport
import XCTest

final class NPYTests: XCTestCase {
    var tmp: String!
    override func setUpWithError() throws { tmp = makeTempDir(self, "scan-npy") }

    func testFloat32RoundTripIsBitExact() throws {
        let values: [Float] = [0, -0, 1.5, -2.25, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity, 3.1415927] + (0..<40).map { Float($0) * 0.37 }
        let t = Tensor(shape: [4, 3, 4], data: values)
        try NPY.write(t, to: tmp + "/a.npy")
        let back = try NPYArray(path: tmp + "/a.npy")
        XCTAssertEqual(back.shape, [4, 3, 4])
        XCTAssertEqual(back.dtype, .float32)
        XCTAssertEqual(back.tensor().data.map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(back.rows(1..<3).data, Array(values[12..<36]))
    }

    func testFloat16RoundTripIsBitExact() throws {
        let halves = (0..<512).map { Float(Float16(bitPattern: UInt16($0 * 127 % 0x7C00))) }
        try NPY.write(Tensor(shape: [512], data: halves), to: tmp + "/h.npy", dtype: .float16)
        let back = try NPYArray(path: tmp + "/h.npy")
        XCTAssertEqual(back.dtype, .float16)
        XCTAssertEqual(back.tensor().data.map(\.bitPattern), halves.map(\.bitPattern))
        // Written again from what was read: the same bytes.
        try NPY.write(back.tensor(), to: tmp + "/h2.npy", dtype: .float16)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: tmp + "/h.npy")), try Data(contentsOf: URL(fileURLWithPath: tmp + "/h2.npy")))
    }

    func testHeaderIsPaddedTo64Bytes() throws {
        try NPY.write(Tensor(zeros: [3, 5]), to: tmp + "/z.npy")
        let data = try Data(contentsOf: URL(fileURLWithPath: tmp + "/z.npy"))
        XCTAssertEqual((data.count - 15 * 4) % 64, 0)
        XCTAssertEqual(data[6], 1)
    }

    func testFilesWrittenByNumpyRead() throws {
        let script = """
        import numpy as np, sys
        d = sys.argv[1]
        a = (np.arange(2*3*5, dtype=np.float32).reshape(2, 3, 5) - 7.5) / 3
        np.save(d + '/f4.npy', a)
        np.save(d + '/f2.npy', a.astype(np.float16))
        np.lib.format.write_array(open(d + '/v2.npy', 'wb'), a, version=(2, 0))
        np.save(d + '/i4.npy', np.arange(4, dtype=np.int32))
        np.save(d + '/fortran.npy', np.asfortranarray(a))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, tmp]
        p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("python3 with numpy is not available") }
        let expected = (0..<30).map { (Float($0) - 7.5) / 3 }
        for name in ["f4", "v2"] {
            let a = try NPYArray(path: tmp + "/\(name).npy")
            XCTAssertEqual(a.shape, [2, 3, 5], name)
            XCTAssertEqual(a.tensor().data, expected, name)
        }
        XCTAssertEqual(try NPYArray(path: tmp + "/v2.npy").headerVersion, 2)
        let h = try NPYArray(path: tmp + "/f2.npy")
        XCTAssertEqual(h.tensor().data, expected.map { Float(Float16($0)) })
        XCTAssertThrowsError(try NPYArray(path: tmp + "/i4.npy")) { err in
            XCTAssertEqual(err as? FormatError, .unsupportedDType(file: tmp + "/i4.npy", field: "descr", dtype: "<i4"))
        }
        XCTAssertThrowsError(try NPYArray(path: tmp + "/fortran.npy")) { err in
            XCTAssertTrue("\(err)".contains("fortran_order"), "\(err)")
        }
    }

    func testTruncatedAndGarbageFilesGiveTypedErrors() throws {
        try NPY.write(Tensor(zeros: [10, 10]), to: tmp + "/ok.npy")
        let full = try Data(contentsOf: URL(fileURLWithPath: tmp + "/ok.npy"))
        try full.prefix(full.count - 7).write(to: URL(fileURLWithPath: tmp + "/trunc.npy"))
        XCTAssertThrowsError(try NPYArray(path: tmp + "/trunc.npy")) { err in
            XCTAssertEqual(err as? FormatError, .truncated(file: tmp + "/trunc.npy", expectedBytes: full.count, foundBytes: full.count - 7))
        }
        try full.prefix(20).write(to: URL(fileURLWithPath: tmp + "/header.npy"))
        XCTAssertThrowsError(try NPYArray(path: tmp + "/header.npy")) { err in
            XCTAssertTrue("\(err)".contains("header.npy"), "\(err)")
        }
        try Data("hello, this is not an array".utf8).write(to: URL(fileURLWithPath: tmp + "/garbage.npy"))
        XCTAssertThrowsError(try NPYArray(path: tmp + "/garbage.npy")) { err in
            XCTAssertTrue("\(err)".contains("garbage.npy") && "\(err)".contains("not an npy file"), "\(err)")
        }
        XCTAssertThrowsError(try NPYArray(path: tmp + "/missing.npy")) { err in
            XCTAssertTrue("\(err)".contains("missing.npy"), "\(err)")
        }
    }
}
