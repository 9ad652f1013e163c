/// One object of a synthetic image, with its optional attribute and action (concept names of
/// `DemoWorldCatalog`).
public struct DemoWorldObject: Codable, Equatable, Sendable {
    public var name: String
    public var attribute: String?
    public var action: String?
    /// Index (in the image's `objects`) of the object the action is done to: "riding" a horse.
    public var target: Int?

    public init(name: String, attribute: String? = nil, action: String? = nil, target: Int? = nil) {
        self.name = name
        self.attribute = attribute
        self.action = action
        self.target = target
    }
}

/// The ground truth of one synthetic image: what its region features were made from and what its
/// captions describe.
public struct DemoWorldImage: Codable, Equatable, Sendable {
    /// What a hard-negative pair exchanges between its first two objects.
    public enum Swap: String, Codable, Sendable {
        case attribute, action
    }

    public var scene: String
    /// One to three objects; the first is the main one (always in the captions).
    public var objects: [DemoWorldObject]
    /// Objects unrelated to the image that appear in a few weak "clutter" regions; captions never
    /// mention them.
    public var clutter: [String]
    /// For a hard-negative pair: the row (in the same split) of the other image, which has the same
    /// scene, objects and clutter with the attributes or actions of its first two objects exchanged.
    public var partner: Int?
    public var swap: Swap?

    public init(scene: String, objects: [DemoWorldObject], clutter: [String] = [], partner: Int? = nil, swap: Swap? = nil) {
        self.scene = scene
        self.objects = objects
        self.clutter = clutter
        self.partner = partner
        self.swap = swap
    }

    /// The image with the attributes (or actions) of objects 0 and 1 exchanged.
    public func swapped(_ what: Swap) -> DemoWorldImage {
        precondition(objects.count >= 2)
        var copy = self
        switch what {
        case .attribute: (copy.objects[0].attribute, copy.objects[1].attribute) = (objects[1].attribute, objects[0].attribute)
        case .action: (copy.objects[0].action, copy.objects[1].action) = (objects[1].action, objects[0].action)
        }
        return copy
    }
}
