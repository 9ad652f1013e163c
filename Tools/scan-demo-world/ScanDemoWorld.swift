import ArgumentParser
import Foundation
import SCANSynthetic
import SCANTraining

/// `scan-demo-world`: writes a deterministic synthetic world in the original's precomp layout.
@main
struct ScanDemoWorld: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-demo-world",
        abstract: "Write a SYNTHETIC image-text world in the precomp layout (no download needed).",
        discussion: """
            The features are made from random concept prototypes and the captions from templates: this \
            is not Flickr30K. Writes {train,dev,test}_ims.npy, {train,dev,test}_caps.txt, vocab.json, \
            demo_precomp_vocab.json, world.json (settings and the test images' ground truth) and images/{row}.svg \
            (a picture of each test image drawn from its ground truth, for scan-serve --image-dir). The \
            same arguments always give byte-identical files.
            """)

    @Option(help: "Output folder (created if needed).")
    var out: String

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Training images (5 captions each).")
    var train = 3000

    @Option(help: "Validation images.")
    var dev = 200

    @Option(help: "Test images.")
    var test = 500

    @Option(help: "Regions per image.")
    var regions = 36

    @Option(name: .customLong("img-dim"), help: "Region feature dimension.")
    var imgDim = 2048

    @Option(name: .customLong("pair-fraction"), help: "Fraction of images in hard-negative pairs (same concepts, bound differently).")
    var pairFraction = 0.25

    @Option(help: "Vocabulary threshold (minimum count in train and dev captions).")
    var threshold = 4

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func run() throws {
        let options = DemoWorldOptions(seed: seed, trainImages: train, devImages: dev, testImages: test, regions: regions,
                                       imgDim: imgDim, pairFraction: pairFraction, vocabularyThreshold: threshold)
        let world: DemoWorld
        do { world = try DemoWorld(options: options) } catch { throw ValidationError("\(error)") }
        let started = Date()
        let manifest = try world.write(to: out, progress: !quiet)
        let pictures = try world.writePictures(to: out)
        let seconds = Date().timeIntervalSince(started)
        print("Synthetic demo world (not real data) written to \(out) in \(String(format: "%.1f", seconds)) s:")
        for name in manifest.files {
            let path = (out as NSString).appendingPathComponent(name)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            print("  " + name.padding(toLength: 26, withPad: " ", startingAt: 0) + String(size).leftPadded(to: 13) + " bytes")
        }
        for s in manifest.splits {
            print("  \(s.name): \(s.images) images, \(s.captions) captions, \(s.pairs) hard-negative pairs")
        }
        print("  vocabulary: \(manifest.vocabularySize) words (threshold \(threshold))")
        print("  pictures of the test images (SVG, drawn from the ground truth): \(pictures)/")
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
