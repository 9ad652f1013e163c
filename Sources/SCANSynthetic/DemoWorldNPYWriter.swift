import SCANCore

/// Streams a float32 `.npy` file (C order, little endian) whose shape is known in advance: the header
/// first, then the rows as they are made, so that a large array is never held in memory. The file
/// appears under its name only when every value has been written (`finish()`).
public final class DemoWorldNPYWriter {
    public let shape: [Int]
    public let path: String
    public var valuesWritten: Int { written }
    public var valueCount: Int { shape.reduce(1, *) }
    private let file: DemoWorldFileWriter
    private var written = 0

    public init(path: String, shape: [Int]) throws {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 >= 0 })
        self.path = path
        self.shape = shape
        file = try DemoWorldFileWriter(path: path)
        try file.write(Self.header(shape: shape))
    }

    /// The npy header numpy writes for a float32 C-order array: version 1.0 (2.0 when the text does
    /// not fit in 65535 bytes), padded with spaces and a newline to a multiple of 64 bytes.
    public static func header(shape: [Int]) -> [UInt8] { NPY.header(dtype: .float32, shape: shape) }

    /// Appends values in C order.
    public func append(_ values: UnsafeBufferPointer<Float>) throws {
        precondition(written + values.count <= valueCount, "more values than the shape \(shape) holds")
        #if _endian(big)
        let swapped = values.map { $0.bitPattern.littleEndian }
        try swapped.withUnsafeBytes { try file.write($0) }
        #else
        try file.write(UnsafeRawBufferPointer(values))
        #endif
        written += values.count
    }

    public func append(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try append($0) }
    }

    /// Checks that the whole array was written and moves the file into place.
    public func finish() throws {
        guard written == valueCount else {
            file.discard()
            throw DemoWorldError.writeFailed(path: path, reason: "wrote \(written) of \(valueCount) values")
        }
        try file.commit()
    }

    /// Abandons the file (the destination is left as it was).
    public func discard() { file.discard() }
}
