import SCANCore
/// Errors of `Vocabulary`, `VocabularyBuilder` and caption encoding. Every case that concerns a file
/// names it, and says what was expected and what was found.
public enum VocabularyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read (missing, unreadable) or written.
    case unreadableFile(path: String, reason: String)
    case unwritableFile(path: String, reason: String)
    /// The file is not valid JSON; `offset` is the byte offset of the problem, `line` its 1-based line.
    case malformedJSON(path: String, line: Int, offset: Int, expected: String, found: String)
    /// The JSON is valid but not the layout `{"word2idx": {...}, "idx2word": {"0": "<pad>", ...}, "idx": N}`.
    case invalidLayout(path: String, expected: String, found: String)
    /// One of `<pad>`, `<start>`, `<end>`, `<unk>` is not at its id 0, 1, 2, 3. `found` describes what
    /// the file has instead.
    case missingSpecialToken(path: String, token: String, expectedID: Int, found: String)
    /// `word2idx` and `idx2word` (or `idx`) disagree.
    case inconsistent(path: String, expected: String, found: String)
    /// The same word appears at two ids.
    case duplicateWord(path: String, word: String, firstID: Int, secondID: Int)
    /// A caption file is not valid UTF-8 (the original decodes every caption as UTF-8 and fails).
    case invalidUTF8(path: String, line: Int)
    /// A vocabulary-building threshold below 1.
    case invalidThreshold(Int)
    /// A caption without any token cannot be encoded (it would be `<start> <end>` only).
    case emptyCaption(caption: String)
    /// Writing would replace a different vocabulary at `path` (`existingWords` nil: the file is not a vocabulary).
    case wouldReplace(path: String, existingWords: Int?, newWords: Int, builtFrom: [String])

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "\(path): cannot read the file: \(reason)"
        case let .unwritableFile(path, reason):
            return "\(path): cannot write the file: \(reason)"
        case let .wouldReplace(path, had, new, from):
            return "\(path) exists with \(had.map { "\($0) words" } ?? "content that is not a vocabulary"); the vocabulary built from "
                + "\(from.joined(separator: " and ")) has \(new) words and differs. Kept \(path) unchanged: a model trained (or converted) "
                + "with it needs it as it is. Write the new one to its own folder with --vocab_path DIR (and give DIR to scan-train "
                + "--vocab_path), or replace it with --force."
        case let .malformedJSON(path, line, offset, expected, found):
            return "\(path): malformed JSON at line \(line) (byte \(offset)): expected \(expected), found \(found)"
        case let .invalidLayout(path, expected, found):
            return "\(path): not a SCAN vocabulary: expected \(expected), found \(found)"
        case let .missingSpecialToken(path, token, expectedID, found):
            return "\(path): expected the special token \(token) at id \(expectedID), found \(found)"
        case let .inconsistent(path, expected, found):
            return "\(path): inconsistent vocabulary: expected \(expected), found \(found)"
        case let .duplicateWord(path, word, firstID, secondID):
            return "\(path): expected every word once, found \(JSONString.quoted(word, escaping: .visible)) at ids \(firstID) and \(secondID)"
        case let .invalidUTF8(path, line):
            return "\(path): expected UTF-8 text, found invalid UTF-8 on line \(line)"
        case let .invalidThreshold(threshold):
            return "vocabulary threshold must be at least 1, found \(threshold)"
        case let .emptyCaption(caption):
            return "caption \(JSONString.quoted(caption, escaping: .visible)) has no tokens: expected at least one word"
        }
    }

}
