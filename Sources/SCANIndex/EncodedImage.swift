/// One image's stored values as the writer commits them: encoded region and prefilter records and
/// encoded metadata. A split copies these bytes from one index to another without re-encoding.
public struct EncodedImage: Sendable {
    public var id: String
    /// The source description (also inside `metadata`), kept for the manifest's list of sources.
    public var source: String
    public var regions: [UInt8]
    public var prefilter: [UInt8]
    public var metadata: [UInt8]
    /// Number of regions in `regions`.
    public var rows: Int

    public init(id: String, source: String, regions: [UInt8], prefilter: [UInt8], metadata: [UInt8], rows: Int) {
        self.id = id; self.source = source; self.regions = regions; self.prefilter = prefilter; self.metadata = metadata; self.rows = rows
    }
}
