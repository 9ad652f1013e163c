import Foundation

/// Small SVG pictures of synthetic images drawn from their ground truth, so that a search page can
/// show what a result contains: the scene as sky and ground bands, each object as a labelled shape
/// (a figure for a person, an oval for an animal, a box for a vehicle, a disc for a thing) in its
/// colour attribute, and a mark saying that the world is synthetic.
public struct DemoWorldPictures: Sendable {
    /// The folder, next to the world's files, that holds the test split's pictures `{row}.svg`.
    public static let folderName = "images"
    /// Written into the folder; `scan-serve --image-dir` shows it on its page.
    public static let notice = "Synthetic demo world: these pictures are drawn from the generator's ground truth "
        + "(scene, objects, attributes, actions), not photographs, and the features are synthetic too."

    public let catalog: DemoWorldCatalog

    public init(catalog: DemoWorldCatalog = .standard) { self.catalog = catalog }

    static let colours: [String: String] = [
        "red": "#d1352b", "blue": "#2f62c9", "green": "#2e9a4b", "yellow": "#f2c81f", "white": "#fbfbf8", "black": "#26262b",
        "brown": "#8a5a2b", "pink": "#ef8fb7", "orange": "#f08a24", "purple": "#7d45b5",
    ]

    /// Sky and ground colours of a scene.
    static func palette(_ scene: String) -> (sky: String, ground: String, band: String?) {
        switch scene {
        case "beach": return ("#9fd3f2", "#ecd9a0", "#3f8fd0")
        case "snow": return ("#cfe1ee", "#f7f9fb", nil)
        case "water", "river", "lake": return ("#a9d6f0", "#3f86c8", nil)
        case "pool": return ("#dfe9ee", "#5fc3e0", nil)
        case "park", "grass", "field", "garden", "playground": return ("#a9d8f2", "#7fbf5a", nil)
        case "forest": return ("#b9d9c2", "#2f6d3a", nil)
        case "desert": return ("#f4d9a3", "#d9b36a", nil)
        case "mountain": return ("#b5cfe6", "#8d8a80", nil)
        case "street", "city", "road", "market": return ("#c9d4de", "#8f949b", nil)
        case "kitchen": return ("#efe4d2", "#c7a27a", nil)
        case "stage": return ("#3b2a4d", "#6b3f2a", nil)
        default: return ("#d8e4ee", "#b8b8b0", nil)
        }
    }

    /// The SVG document of `image` (320 x 240).
    public func svg(_ image: DemoWorldImage, title: String) -> String {
        let p = Self.palette(image.scene)
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240" role="img" aria-label="\(Self.escape(title))">
        <title>\(Self.escape(title))</title>
        <rect width="320" height="240" fill="\(p.sky)"/>
        <rect y="120" width="320" height="120" fill="\(p.ground)"/>

        """
        if let band = p.band { s += "<rect y=\"108\" width=\"320\" height=\"22\" fill=\"\(band)\"/>\n" }
        s += "<text x=\"8\" y=\"20\" font-family=\"sans-serif\" font-size=\"14\" font-weight=\"bold\" fill=\"#1d2330\">\(Self.escape(image.scene))</text>\n"
        let n = image.objects.count
        for (i, o) in image.objects.enumerated() {
            let cx = Double(320) * (Double(i) + 0.5) / Double(n)
            let colour = o.attribute.flatMap { Self.colours[$0] } ?? "#b0a89a"
            let category = catalog.index(of: o.name, kind: .object).map { catalog.objects[$0].category } ?? nil
            s += shape(category: category ?? "thing", cx: cx, colour: colour, striped: o.attribute == "striped")
            // A person's colour is their clothes' ("a man in a red shirt"), as in the captions.
            let label = category == "person" && o.attribute.map({ Self.colours[$0] != nil }) == true
                ? "\(o.name) in \(o.attribute!)" : [o.attribute, o.name].compactMap { $0 }.joined(separator: " ")
            s += "<text x=\"\(Int(cx))\" y=\"214\" font-family=\"sans-serif\" font-size=\"13\" text-anchor=\"middle\" fill=\"#111\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">\(Self.escape(label))</text>\n"
            if let a = o.action {
                s += "<text x=\"\(Int(cx))\" y=\"230\" font-family=\"sans-serif\" font-size=\"11\" font-style=\"italic\" text-anchor=\"middle\" fill=\"#222\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">\(Self.escape(a))</text>\n"
            }
        }
        s += "<text x=\"312\" y=\"20\" font-family=\"sans-serif\" font-size=\"10\" text-anchor=\"end\" fill=\"#1d2330\" opacity=\"0.7\">synthetic</text>\n"
        return s + "</svg>\n"
    }

    private func shape(category: String, cx: Double, colour: String, striped: Bool) -> String {
        let stroke = "stroke=\"#333\" stroke-width=\"2\""
        let x = Int(cx)
        var out: String
        switch category {
        case "person":
            out = "<circle cx=\"\(x)\" cy=\"104\" r=\"14\" fill=\"#f1c9a5\" \(stroke)/>\n"
                + "<rect x=\"\(x - 16)\" y=\"120\" width=\"32\" height=\"58\" rx=\"8\" fill=\"\(colour)\" \(stroke)/>\n"
        case "animal":
            out = "<ellipse cx=\"\(x)\" cy=\"160\" rx=\"42\" ry=\"24\" fill=\"\(colour)\" \(stroke)/>\n"
                + "<circle cx=\"\(x + 40)\" cy=\"138\" r=\"14\" fill=\"\(colour)\" \(stroke)/>\n"
        case "vehicle":
            out = "<rect x=\"\(x - 46)\" y=\"136\" width=\"92\" height=\"38\" rx=\"6\" fill=\"\(colour)\" \(stroke)/>\n"
                + "<circle cx=\"\(x - 26)\" cy=\"178\" r=\"10\" fill=\"#333\"/><circle cx=\"\(x + 26)\" cy=\"178\" r=\"10\" fill=\"#333\"/>\n"
        default:
            out = "<circle cx=\"\(x)\" cy=\"160\" r=\"24\" fill=\"\(colour)\" \(stroke)/>\n"
        }
        if striped {
            out += "<path d=\"M\(x - 20) 150h40M\(x - 20) 160h40M\(x - 20) 170h40\" stroke=\"#222\" stroke-width=\"3\"/>\n"
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

extension DemoWorld {
    /// Writes the pictures of `split` (default: the test split, which the demo indexes) as
    /// `{folder}/images/{row}.svg`, named like the index's image ids, plus `NOTICE.txt`.
    /// Returns the picture folder.
    @discardableResult
    public func writePictures(to folder: String, split: DemoWorldSplit = .test) throws -> String {
        let dir = (folder as NSString).appendingPathComponent(DemoWorldPictures.folderName)
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw DemoWorldError.writeFailed(path: dir, reason: "\(error)")
        }
        let pictures = DemoWorldPictures(catalog: catalog)
        for (row, image) in images(split).enumerated() {
            let title = captions(for: image, row: row, split: split).first ?? image.scene
            try DemoWorldFileWriter.write(Array(pictures.svg(image, title: title).utf8), to: (dir as NSString).appendingPathComponent("\(row).svg"))
        }
        try DemoWorldFileWriter.write(Array((DemoWorldPictures.notice + "\n").utf8), to: (dir as NSString).appendingPathComponent("NOTICE.txt"))
        return dir
    }
}
