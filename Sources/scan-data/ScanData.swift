import ArgumentParser
import Foundation
import SCANCommandLine
import SCANData

/// `scan-data`: the original's data tools.
@main
struct ScanData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-data",
        abstract: "Data tools of the original SCAN code.",
        subcommands: [Convert.self])

    static func main() { runWithFastBLAS() }
}

/// `scan-data convert`: the original's `util/convert_data.py`, with its flags.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bottom-up-attention TSV + image id list -> {split}_ims.npy (the original's util/convert_data.py), streaming.",
        discussion: """
        Writes OUTPUT_DIR/{split}_ims.npy, float32 of shape (listed ids, num_boxes, feature size), rows in the \
        order of the id list (a repeated id repeated), and OUTPUT_DIR/{split}_ids.txt. The TSV is read once, \
        a line at a time: memory stays at a few images whatever the file's size. Nothing appears under the \
        final name unless every listed id was found.

        Example (the seed README's data step):
          scan-data convert --imgid_list data/f30k_precomp/test_ids.txt \\
              --input_file data/bu_data/test.tsv --output_dir data/f30k_precomp --split test
        """)

    @Option(name: .customLong("imgid_list"), help: "Image ids, one per line, in the order of the output rows.")
    var imgidList: String
    @Option(name: .customLong("input_file"), help: "The bottom-up-attention TSV (image_id, image_w, image_h, num_boxes, boxes, features).")
    var inputFile: String
    @Option(name: .customLong("output_dir"), help: "Folder for {split}_ims.npy and {split}_ids.txt.")
    var outputDir: String
    @Option(help: "Split name: train, dev, test, testall, ...")
    var split = "train"
    @Flag(help: "No progress line on stderr.") var quiet = false

    func validate() throws {
        if split.isEmpty || split.contains("/") { throw ValidationError("--split must be a plain name such as train or test, not '\(split)'") }
        for (flag, path) in [("--imgid_list", imgidList), ("--input_file", inputFile)] where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(flag): \(path): no such file")
        }
    }

    func run() throws {
        var converter = PrecompConverter(imageIDList: imgidList, inputFile: inputFile, outputDirectory: outputDir, split: split)
        converter.showProgress = !quiet
        let r = try converter.run()
        print("Final numpy array shape: (\(r.shape.map(String.init).joined(separator: ", ")))")
        print("wrote \(r.imagesPath) and \(r.idsPath) in \(String(format: "%.1f", r.seconds)) s (\(r.tsvLines) TSV lines, \(r.unlistedRows) not in the list"
              + (r.duplicateRows > 0 ? ", \(r.duplicateRows) repeated ids: the last row of each was used, as in the original" : "") + ")")
    }
}
