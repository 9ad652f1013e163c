import Foundation

/// A deterministic synthetic world in the original's precomp layout, for demos that must run without
/// downloading anything. Everything (concept prototypes, images, captions) follows from the options;
/// the data are synthetic and `world.json` says so.
///
/// ```swift
/// let world = try DemoWorld(options: DemoWorldOptions(seed: 7, trainImages: 100, devImages: 20, testImages: 20))
/// let manifest = try world.write(to: "demo/f30k_like")
/// ```
public struct DemoWorld: Sendable {
    public let options: DemoWorldOptions
    public let catalog: DemoWorldCatalog
    public let prototypes: DemoWorldPrototypes
    let sampler: DemoWorldSampler
    let renderer: DemoWorldRenderer
    let captioner: DemoWorldCaptioner

    public init(options: DemoWorldOptions, catalog: DemoWorldCatalog = .standard) throws {
        try options.validate()
        self.options = options
        self.catalog = catalog
        prototypes = DemoWorldPrototypes(catalog: catalog, imgDim: options.imgDim, seed: options.seed)
        sampler = DemoWorldSampler(catalog: catalog, seed: options.seed, regions: options.regions)
        renderer = DemoWorldRenderer(catalog: catalog, prototypes: prototypes, seed: options.seed, regions: options.regions)
        captioner = DemoWorldCaptioner(catalog: catalog, seed: options.seed)
    }

    /// Ground truth of every image of `split`, by row.
    public func images(_ split: DemoWorldSplit) -> [DemoWorldImage] {
        sampler.images(split: split, count: options.imageCount(split), pairFraction: options.pairFraction)
    }

    /// Number of hard-negative pairs in `split`.
    public func pairCount(_ split: DemoWorldSplit) -> Int {
        DemoWorldSampler.pairCount(images: options.imageCount(split), fraction: options.pairFraction)
    }

    /// The five captions of `image`, row `row` of `split`.
    public func captions(for image: DemoWorldImage, row: Int, split: DemoWorldSplit) -> [String] {
        captioner.captions(image: image, row: row, split: split)
    }

    /// The regions x imgDim features of `image`, row `row` of `split`, written to `buffer`.
    public func renderFeatures(for image: DemoWorldImage, row: Int, split: DemoWorldSplit, into buffer: UnsafeMutableBufferPointer<Float>) {
        renderer.render(image: image, row: row, split: split, into: buffer)
    }

    /// The regions x imgDim features of `image`, row `row` of `split` (C order).
    public func features(for image: DemoWorldImage, row: Int, split: DemoWorldSplit) -> [Float] {
        var out = [Float](repeating: 0, count: options.regions * options.imgDim)
        out.withUnsafeMutableBufferPointer { renderFeatures(for: image, row: row, split: split, into: $0) }
        return out
    }

    /// The feature recipe's constants, as `world.json` records them.
    public var featureSettings: DemoWorldManifest.FeatureSettings {
        .init(prototypeNonZeros: prototypes.nonZeros, categoryWeight: DemoWorldPrototypes.categoryWeight,
              attributeWeight: DemoWorldRenderer.attributeWeight, actionWeight: DemoWorldRenderer.actionWeight,
              jitter: DemoWorldRenderer.jitter, noiseProbability: DemoWorldRenderer.noiseProbability,
              noiseScale: DemoWorldRenderer.noiseScale)
    }
}
