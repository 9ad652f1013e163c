import Foundation

/// Builds a vocabulary the way the original `vocab.py` (`build_vocab`) does (DESIGN §2):
/// every caption line of the given files (train and dev: `train_caps.txt`, `dev_caps.txt`, all their
/// lines) is stripped, lowercased and tokenized; the tokens are counted; the words counted at least
/// `threshold` times (default 4) follow the four special tokens in the order they were first seen
/// (the order of Python's `Counter.items()`).
///
/// The 100-caption vocabulary of the `evalrank_tiny_t2i` reference fixture is this with threshold 1.
public struct VocabularyBuilder: Sendable {
    public static let defaultThreshold = 4

    /// Minimum count of a word to enter the vocabulary (at least 1).
    public var threshold: Int
    public let tokenizer: Tokenizer

    private var counts: [Vocabulary.ExactWord: Int] = [:]
    private var firstSeen: [String] = []
    /// Number of caption lines counted so far (empty lines included, as the original iterates them).
    public private(set) var captionCount = 0

    public init(threshold: Int = VocabularyBuilder.defaultThreshold, tokenizer: Tokenizer = Tokenizer()) {
        self.threshold = threshold
        self.tokenizer = tokenizer
    }

    /// The caption files the original reads for a dataset folder `DATA/NAME`: train then dev.
    public static func captionFiles(datasetDirectory: String) -> [String] {
        let base = URL(fileURLWithPath: datasetDirectory)
        return ["train_caps.txt", "dev_caps.txt"].map { base.appendingPathComponent($0).path }
    }

    /// Builds the vocabulary of the given caption files (read in order).
    public static func build(captionFiles: [String], threshold: Int = VocabularyBuilder.defaultThreshold,
                             tokenizer: Tokenizer = Tokenizer()) throws -> Vocabulary {
        var builder = VocabularyBuilder(threshold: threshold, tokenizer: tokenizer)
        for file in captionFiles { try builder.addCaptions(contentsOf: file) }
        return try builder.makeVocabulary()
    }

    /// Counts the tokens of one caption.
    public mutating func add(caption: String) {
        captionCount += 1
        add(tokens: tokenizer.tokenize(caption))
    }

    /// Counts already tokenized words (does not count a caption).
    public mutating func add(tokens: [String]) {
        for token in tokens {
            let key = Vocabulary.ExactWord(token)
            if let c = counts[key] {
                counts[key] = c + 1
            } else {
                counts[key] = 1
                firstSeen.append(token)
            }
        }
    }

    /// Counts every line of a caption file. Lines are split at "\n" only (as Python iterates a file
    /// opened in binary mode); each must be UTF-8.
    public mutating func addCaptions(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            var isDirectory: ObjCBool = false
            let reason = !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                ? "no such file" : (isDirectory.boolValue ? "it is a directory" : "\(error)")
            throw VocabularyError.unreadableFile(path: path, reason: reason)
        }
        try addCaptions(bytes: [UInt8](data), path: path)
    }

    /// Counts every line of a caption file's bytes; `path` names the file in errors.
    mutating func addCaptions(bytes: [UInt8], path: String) throws {
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let line = bytes[start..<end]
            guard let caption = String(validatingUTF8Bytes: line) else {
                throw VocabularyError.invalidUTF8(path: path, line: lineNumber)
            }
            add(caption: caption)
            start = end + 1
        }
    }

    /// How often `word` was counted.
    public func count(of word: String) -> Int {
        counts[Vocabulary.ExactWord(word)] ?? 0
    }

    /// Distinct words counted so far, in first-seen order.
    public var distinctWords: [String] { firstSeen }

    /// The vocabulary: the four specials, then the words with count >= threshold in first-seen order.
    public func makeVocabulary() throws -> Vocabulary {
        guard threshold >= 1 else { throw VocabularyError.invalidThreshold(threshold) }
        let specials = Set(Vocabulary.specialTokens.map(Vocabulary.ExactWord.init))
        // The original's add_word skips words already present (only the specials could be).
        let words = firstSeen.filter { word in
            let key = Vocabulary.ExactWord(word)
            return counts[key, default: 0] >= threshold && !specials.contains(key)
        }
        return try Vocabulary(words: words)
    }
}

private extension String {
    /// The string of UTF-8 bytes, nil when they are not valid UTF-8.
    init?<C: Collection>(validatingUTF8Bytes bytes: C) where C.Element == UInt8 {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var scalars = String.UnicodeScalarView()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded):
                scalars.append(Unicode.UTF8.decode(encoded))
            case .emptyInput:
                self = String(scalars)
                return
            case .error:
                return nil
            }
        }
    }
}
