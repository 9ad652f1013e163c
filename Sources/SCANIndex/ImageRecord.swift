import SCANCore

/// One image as the writer receives it: already encoded by the model.
public struct ImageRecord: Sendable {
    /// External id, unique within the index (UTF-8, 1...511 bytes).
    public var id: String
    /// Where the image came from (e.g. the feature file); the manifest lists the distinct sources.
    public var source: String
    public var captions: [String]
    /// n_regions x 4 boxes, flattened, when the source has them.
    public var boxes: [Float]?
    /// Encoded regions, n_regions x embed_dim (n_regions may differ between images).
    public var regions: Tensor
    /// The prefilter vector (prefilter_dim values).
    public var prefilter: [Float]
    public var imageWidth: Int?
    public var imageHeight: Int?

    public init(id: String, source: String, captions: [String] = [], boxes: [Float]? = nil,
                regions: Tensor, prefilter: [Float], imageWidth: Int? = nil, imageHeight: Int? = nil) {
        self.id = id
        self.source = source
        self.captions = captions
        self.boxes = boxes
        self.regions = regions
        self.prefilter = prefilter
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }

    /// The metadata stored for this record.
    public var metadata: ImageMetadata {
        ImageMetadata(id: id, source: source, captions: captions, boxes: boxes, imageWidth: imageWidth, imageHeight: imageHeight)
    }
}
