import SCANCore
import SCANData

/// Generated region features (no file): image i's regions are a deterministic function of (seed, i),
/// non-negative and half zeros like ReLU outputs. For benchmarks and tests.
public final class SyntheticFeatureSource: FeatureSource {
    public let count: Int
    public let regions: Int
    public let imgDim: Int
    public let seed: UInt64
    public let idPrefix: String
    public var sourceDescription: String { "synthetic(seed \(seed), \(count) x \(regions) x \(imgDim))" }

    public init(count: Int, regions: Int, imgDim: Int, seed: UInt64 = 1, idPrefix: String = "img") {
        self.count = count; self.regions = regions; self.imgDim = imgDim; self.seed = seed; self.idPrefix = idPrefix
    }

    public func id(at index: Int) -> String { "\(idPrefix)\(index)" }

    public func item(at index: Int) throws -> FeatureItem {
        var data = [Float](repeating: 0, count: regions * imgDim)
        var s = (seed &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(index) &+ 1) &* 0xBF58_476D_1CE4_E5B9
        if s == 0 { s = 1 }
        data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17
                let u = Float(Int32(truncatingIfNeeded: s >> 32)) * (1 / 2_147_483_648)
                p[i] = max(0, u) * 4
            }
        }
        return FeatureItem(id: id(at: index), source: sourceDescription, features: Tensor(shape: [regions, imgDim], data: data),
                           captions: ["synthetic image \(index)"])
    }

    public func checkValues() throws {}
}
