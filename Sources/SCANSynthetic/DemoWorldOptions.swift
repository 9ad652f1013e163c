import SCANTraining

/// The settings of a synthetic demo world; the same options always give the same files.
public struct DemoWorldOptions: Codable, Equatable, Sendable {
    public var seed: UInt64
    /// Images per split (each with 5 captions).
    public var trainImages: Int
    public var devImages: Int
    public var testImages: Int
    /// Regions per image (the original's 36) and region feature dimension (the original's 2048).
    public var regions: Int
    public var imgDim: Int
    /// Fraction of the images of each split that come in hard-negative pairs (same concepts, bound
    /// differently).
    public var pairFraction: Double
    /// Vocabulary threshold (the original's 4).
    public var vocabularyThreshold: Int

    public static let captionsPerImage = 5
    public static let minimumRegions = 8
    public static let minimumImgDim = 16

    public init(seed: UInt64 = 1, trainImages: Int = 3000, devImages: Int = 200, testImages: Int = 500,
                regions: Int = 36, imgDim: Int = 2048, pairFraction: Double = 0.25,
                vocabularyThreshold: Int = VocabularyBuilder.defaultThreshold) {
        self.seed = seed
        self.trainImages = trainImages
        self.devImages = devImages
        self.testImages = testImages
        self.regions = regions
        self.imgDim = imgDim
        self.pairFraction = pairFraction
        self.vocabularyThreshold = vocabularyThreshold
    }

    public func imageCount(_ split: DemoWorldSplit) -> Int {
        switch split {
        case .train: return trainImages
        case .dev: return devImages
        case .test: return testImages
        }
    }

    /// Throws `DemoWorldError.invalidOption` for sizes the generator cannot honour.
    public func validate() throws {
        for split in DemoWorldSplit.allCases where imageCount(split) < 1 {
            throw DemoWorldError.invalidOption(name: split.rawValue, value: "\(imageCount(split))", reason: "every split needs at least one image")
        }
        if regions < Self.minimumRegions {
            throw DemoWorldError.invalidOption(name: "regions", value: "\(regions)", reason: "at least \(Self.minimumRegions) regions are needed for up to three objects, a scene and clutter")
        }
        if imgDim < Self.minimumImgDim {
            throw DemoWorldError.invalidOption(name: "img-dim", value: "\(imgDim)", reason: "at least \(Self.minimumImgDim) dimensions are needed")
        }
        if !(0...1).contains(pairFraction) {
            throw DemoWorldError.invalidOption(name: "pair-fraction", value: "\(pairFraction)", reason: "must be between 0 and 1")
        }
        if vocabularyThreshold < 1 {
            throw DemoWorldError.invalidOption(name: "threshold", value: "\(vocabularyThreshold)", reason: "must be at least 1")
        }
        let bytes = [trainImages, devImages, testImages].map { $0.multipliedReportingOverflow(by: regions * imgDim * 4) }
        if bytes.contains(where: \.overflow) {
            throw DemoWorldError.invalidOption(name: "train", value: "\(trainImages)", reason: "the feature file would be too large")
        }
    }
}
