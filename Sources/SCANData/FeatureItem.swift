import SCANCore

/// One image as a feature source yields it: raw region features, before the model encodes them.
public struct FeatureItem: Sendable {
    /// External id.
    public var id: String
    /// The source description (the feature file or directory).
    public var source: String
    /// n_regions x img_dim raw features.
    public var features: Tensor
    /// n_regions x 4 boxes, flattened, when the source has them.
    public var boxes: [Float]?
    public var captions: [String]
    public var imageWidth: Int?
    public var imageHeight: Int?

    public init(id: String, source: String, features: Tensor, boxes: [Float]? = nil, captions: [String] = [],
                imageWidth: Int? = nil, imageHeight: Int? = nil) {
        self.id = id
        self.source = source
        self.features = features
        self.boxes = boxes
        self.captions = captions
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }
}
