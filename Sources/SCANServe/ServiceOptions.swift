import Foundation

/// What `scan-serve` is told besides the index: limits and where pictures come from.
public struct ServiceOptions: Sendable {
    public var limits = ServiceLimits()
    /// A directory of pictures named `{id}.{ext}`, served at `/images/{id}.{ext}`. A file `NOTICE.txt`
    /// in it is shown on the page (the demo world says there that its pictures are synthetic).
    public var pictureDirectory: String?
    /// The extension the page asks for when pictures come from `pictureDirectory`.
    public var pictureExtension = "svg"
    /// A URL with `{id}` for pictures hosted elsewhere (overrides `pictureDirectory` for the page).
    public var pictureURLTemplate: String?
    /// Leave images with corrupt records out of answers (named in `skipped`) instead of failing.
    public var skipCorrupt = true
    /// Cores one query may split its work over; 0: all of them. One (the default) makes a loaded
    /// server's throughput scale with the cores: each query runs on one core, side by side with the
    /// others, instead of every query taking all cores in turn (`scan-serve --threads-per-query`).
    public var threadsPerQuery = 1

    public init() {}

    /// The template the page uses, nil for a placeholder.
    var pageTemplate: String? {
        if let t = pictureURLTemplate { return t }
        if pictureDirectory != nil { return "/images/{id}.\(pictureExtension)" }
        return nil
    }

    /// The text of `NOTICE.txt` in the picture directory, if any.
    var notice: String? {
        guard let dir = pictureDirectory,
              let s = try? String(contentsOfFile: (dir as NSString).appendingPathComponent("NOTICE.txt"), encoding: .utf8) else { return nil }
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        return t.isEmpty ? nil : t
    }
}
