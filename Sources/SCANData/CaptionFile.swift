import Foundation
import SCANCore

/// The one reader of caption files (`{split}_caps.txt`, a source's captions, query files): one
/// caption per line, read as Python iterates a file ("\n" separated, a final newline does not start
/// another line, a trailing "\r" dropped) and stripped of surrounding whitespace, as the original's
/// `line.strip()`. Invalid UTF-8 is an error naming the line.
public enum CaptionFile {
    public static func read(_ path: String) throws -> [String] {
        try SourceSupport.readLines(path).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}
