import Foundation

/// SCAN's word vocabulary (the original `vocab.Vocabulary`, DESIGN §2).
///
/// Ids 0...3 are `<pad>`, `<start>`, `<end>`, `<unk>`; the other words follow in the order they were
/// added. The file layout is the original's `serialize_vocab` output:
/// `{"word2idx": {"<pad>": 0, ...}, "idx2word": {"0": "<pad>", ...}, "idx": N}`.
///
/// Words are compared code point by code point, as Python compares strings. (Swift's `String` equality
/// treats canonically equivalent strings, e.g. a precomposed and a decomposed "é", as equal; lookups
/// here do not, so they give the original's ids.)
public struct Vocabulary: Sendable, CustomStringConvertible {
    public static let pad = 0
    public static let start = 1
    public static let end = 2
    public static let unk = 3
    /// The four special tokens, at ids 0...3.
    public static let specialTokens = ["<pad>", "<start>", "<end>", "<unk>"]

    /// Words by id: `idx2word[id]`.
    public let idx2word: [String]
    /// Ids by word. Where two words are canonically equivalent Unicode (and so equal as Swift strings)
    /// this dictionary keeps the lower id; `id(_:)` distinguishes them.
    public let word2idx: [String: Int]
    private let exactIndex: [ExactWord: Int]

    /// Number of words, specials included (the original's `len(vocab)`, the embedding table's rows).
    public var count: Int { idx2word.count }

    public var description: String { "Vocabulary(\(count) words)" }

    // MARK: - Construction

    /// A vocabulary with the given words by id; `idx2word[0...3]` must be the four special tokens and no
    /// word may appear twice.
    public init(idx2word words: [String]) throws {
        try self.init(validated: words, source: "(in memory)")
    }

    /// The four special tokens followed by `words` (which must not repeat or contain a special token).
    public init(words: [String]) throws {
        try self.init(validated: Self.specialTokens + words, source: "(in memory)")
    }

    private init(validated words: [String], source: String) throws {
        for (id, token) in Self.specialTokens.enumerated() {
            guard id < words.count else {
                throw VocabularyError.missingSpecialToken(path: source, token: token, expectedID: id, found: "no word at id \(id)")
            }
            guard ExactWord(words[id]) == ExactWord(token) else {
                throw VocabularyError.missingSpecialToken(path: source, token: token, expectedID: id, found: JSONString.quoted(words[id], escaping: .visible))
            }
        }
        var exact: [ExactWord: Int] = [:]
        exact.reserveCapacity(words.count)
        var plain: [String: Int] = [:]
        plain.reserveCapacity(words.count)
        for (id, word) in words.enumerated() {
            if let previous = exact.updateValue(id, forKey: ExactWord(word)) {
                throw VocabularyError.duplicateWord(path: source, word: word, firstID: previous, secondID: id)
            }
            if plain[word] == nil { plain[word] = id }
        }
        self.idx2word = words
        self.word2idx = plain
        self.exactIndex = exact
    }

    /// Reads a vocabulary file in the original JSON layout and checks it: valid JSON, the three keys,
    /// the specials at ids 0...3, ids 0..<N without gaps, `word2idx` the inverse of `idx2word`,
    /// `idx` == N.
    public init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw VocabularyError.unreadableFile(path: path, reason: Self.readFailureReason(path: path, error: error))
        }
        try self.init(jsonData: data, path: path)
    }

    /// Parses the original JSON layout from memory; `path` names the source in errors.
    public init(jsonData data: Data, path: String = "(data)") throws {
        let root = try JSONReader.parse([UInt8](data), path: path)
        guard case let .object(members) = root else {
            throw VocabularyError.invalidLayout(path: path, expected: "a JSON object with keys \"word2idx\", \"idx2word\", \"idx\"", found: root.kindName)
        }
        func member(_ key: String) throws -> JSONReader.Value {
            // Python's json keeps the last of repeated keys.
            guard let value = members.last(where: { ExactWord($0.key) == ExactWord(key) })?.value else {
                let keys = members.map { JSONString.quoted($0.key, escaping: .visible) }.joined(separator: ", ")
                throw VocabularyError.invalidLayout(path: path, expected: "the key \"\(key)\"", found: "keys [\(keys)]")
            }
            return value
        }

        // word2idx: word -> integer id
        guard case let .object(w2iMembers) = try member("word2idx") else {
            throw VocabularyError.invalidLayout(path: path, expected: "\"word2idx\" to be an object", found: try member("word2idx").kindName)
        }
        var word2idEntries: [ExactWord: Int] = [:]
        var word2idOrder: [ExactWord] = []  // file order, for deterministic messages
        for (word, value) in w2iMembers {
            guard case let .integer(id) = value else {
                throw VocabularyError.invalidLayout(path: path, expected: "an integer id for word2idx[\(JSONString.quoted(word, escaping: .visible))]", found: value.kindName)
            }
            if word2idEntries.updateValue(id, forKey: ExactWord(word)) == nil { word2idOrder.append(ExactWord(word)) }
        }

        // idx2word: decimal id string -> word
        guard case let .object(i2wMembers) = try member("idx2word") else {
            throw VocabularyError.invalidLayout(path: path, expected: "\"idx2word\" to be an object", found: try member("idx2word").kindName)
        }
        var byID: [Int: String] = [:]
        for (key, value) in i2wMembers {
            guard let id = Int(key), id >= 0, String(id) == key else {
                throw VocabularyError.invalidLayout(path: path, expected: "idx2word keys to be non-negative decimal integers", found: "the key \(JSONString.quoted(key, escaping: .visible))")
            }
            guard case let .string(word) = value else {
                throw VocabularyError.invalidLayout(path: path, expected: "a string for idx2word[\"\(key)\"]", found: value.kindName)
            }
            byID[id] = word
        }

        guard case let .integer(idx) = try member("idx") else {
            throw VocabularyError.invalidLayout(path: path, expected: "\"idx\" to be an integer", found: try member("idx").kindName)
        }

        // The specials first: the clearest message for a file that is not a SCAN vocabulary.
        for (id, token) in Self.specialTokens.enumerated() {
            guard let word = byID[id] else {
                throw VocabularyError.missingSpecialToken(path: path, token: token, expectedID: id, found: "no idx2word entry \"\(id)\"")
            }
            guard ExactWord(word) == ExactWord(token) else {
                throw VocabularyError.missingSpecialToken(path: path, token: token, expectedID: id, found: "idx2word[\"\(id)\"] = \(JSONString.quoted(word, escaping: .visible))")
            }
            guard let mapped = word2idEntries[ExactWord(token)] else {
                throw VocabularyError.missingSpecialToken(path: path, token: token, expectedID: id, found: "no word2idx entry for \(token)")
            }
            guard mapped == id else {
                throw VocabularyError.missingSpecialToken(path: path, token: token, expectedID: id, found: "word2idx[\"\(token)\"] = \(mapped)")
            }
        }

        let n = byID.count
        if let gap = (0..<n).first(where: { byID[$0] == nil }) {
            let maxID = byID.keys.max() ?? -1
            throw VocabularyError.inconsistent(path: path, expected: "idx2word ids 0...\(n - 1) without gaps", found: "no id \(gap) (largest id \(maxID))")
        }
        var words: [String] = []
        words.reserveCapacity(n)
        for id in 0..<n { words.append(byID[id]!) }

        var seen: [ExactWord: Int] = [:]
        seen.reserveCapacity(n)
        for (id, word) in words.enumerated() {
            if let first = seen.updateValue(id, forKey: ExactWord(word)) {
                throw VocabularyError.duplicateWord(path: path, word: word, firstID: first, secondID: id)
            }
        }
        for word in word2idOrder {
            let id = word2idEntries[word]!
            let quotedWord = JSONString.quoted(word.text, escaping: .visible)
            guard let expectedID = seen[word] else {
                let target = (0..<n).contains(id) ? "idx2word[\"\(id)\"] = \(JSONString.quoted(words[id], escaping: .visible))" : "no idx2word entry \"\(id)\""
                throw VocabularyError.inconsistent(path: path, expected: "every word2idx word in idx2word", found: "word2idx[\(quotedWord)] = \(id), no \(quotedWord) in idx2word (\(target))")
            }
            guard expectedID == id else {
                throw VocabularyError.inconsistent(path: path, expected: "word2idx[\(JSONString.quoted(word.text, escaping: .visible))] = \(expectedID) as in idx2word", found: "word2idx[\(JSONString.quoted(word.text, escaping: .visible))] = \(id)")
            }
        }
        if word2idEntries.count != n {
            let missing = words.first { word2idEntries[ExactWord($0)] == nil } ?? "?"
            throw VocabularyError.inconsistent(path: path, expected: "\(n) word2idx entries, one per idx2word entry", found: "\(word2idEntries.count), no entry for \(JSONString.quoted(missing, escaping: .visible))")
        }
        guard idx == n else {
            throw VocabularyError.inconsistent(path: path, expected: "\"idx\": \(n) (the number of words)", found: "\"idx\": \(idx)")
        }
        try self.init(validated: words, source: path)
    }

    private static func readFailureReason(path: String, error: Error) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return "no such file"
        }
        if isDirectory.boolValue { return "it is a directory" }
        return "\(error)"
    }

    // MARK: - Writing

    /// The file content in the original layout, byte for byte what Python's `json.dump` writes
    /// (`", "` and `": "` separators, non-ASCII characters as `\uXXXX` escapes, no final newline).
    public func jsonData() -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(count * 40)
        func append(_ s: String) { out.append(contentsOf: s.utf8) }
        append("{\"word2idx\": {")
        for (id, word) in idx2word.enumerated() {
            if id > 0 { append(", ") }
            JSONString.append(word, escaping: .asciiOnly, to: &out)
            append(": \(id)")
        }
        append("}, \"idx2word\": {")
        for (id, word) in idx2word.enumerated() {
            if id > 0 { append(", ") }
            append("\"\(id)\": ")
            JSONString.append(word, escaping: .asciiOnly, to: &out)
        }
        append("}, \"idx\": \(count)}")
        return Data(out)
    }

    /// Writes `jsonData()` to `path` (atomically).
    public func write(to path: String) throws {
        do {
            try jsonData().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw VocabularyError.unwritableFile(path: path, reason: "\(error)")
        }
    }

    // MARK: - Lookup and encoding

    /// The id of `word`, or `Vocabulary.unk` (3) for a word not in the vocabulary.
    public func id(_ word: String) -> Int {
        exactIndex[ExactWord(word)] ?? Self.unk
    }

    /// Whether `word` is in the vocabulary (code point comparison).
    public func contains(_ word: String) -> Bool {
        exactIndex[ExactWord(word)] != nil
    }

    /// The word with id `id`, nil outside 0..<count.
    public func word(_ id: Int) -> String? {
        idx2word.indices.contains(id) ? idx2word[id] : nil
    }

    /// `[<start>] + ids + [<end>]` for already tokenized words (unknown words -> `<unk>`).
    public func encode(tokens: [String]) -> [Int] {
        var ids: [Int] = [Self.start]
        ids.reserveCapacity(tokens.count + 2)
        for token in tokens { ids.append(id(token)) }
        ids.append(Self.end)
        return ids
    }

    /// The original `PrecompDataset.__getitem__` ids of a caption: `[<start>] + ids + [<end>]`.
    /// Throws `VocabularyError.emptyCaption` when the caption has no token.
    public func encode(_ caption: String, tokenizer: Tokenizer = Tokenizer()) throws -> [Int] {
        let tokens = tokenizer.tokenize(caption)
        guard !tokens.isEmpty else { throw VocabularyError.emptyCaption(caption: caption) }
        return encode(tokens: tokens)
    }

    /// The caption's tokens that are not in the vocabulary (each once, in order of appearance): they
    /// become `<unk>` when the caption is encoded.
    public func unknownWords(in caption: String, tokenizer: Tokenizer = Tokenizer()) -> [String] {
        var seen = Set<ExactWord>()
        var unknown: [String] = []
        for token in tokenizer.tokenize(caption) where exactIndex[ExactWord(token)] == nil {
            if seen.insert(ExactWord(token)).inserted { unknown.append(token) }
        }
        return unknown
    }

    /// Words of ids (out-of-range ids are shown as `<id?>`), for messages and debugging.
    public func decode(_ ids: [Int]) -> [String] {
        ids.map { word($0) ?? "<\($0)?>" }
    }
}

extension Vocabulary: Equatable {
    public static func == (lhs: Vocabulary, rhs: Vocabulary) -> Bool {
        lhs.idx2word.count == rhs.idx2word.count
            && zip(lhs.idx2word, rhs.idx2word).allSatisfy { ExactWord($0) == ExactWord($1) }
    }
}

extension Vocabulary {
    /// A string compared and hashed by its code points (Python's string equality).
    struct ExactWord: Hashable, Sendable {
        let text: String
        init(_ text: String) { self.text = text }

        static func == (lhs: ExactWord, rhs: ExactWord) -> Bool {
            lhs.text.utf8.elementsEqual(rhs.text.utf8)
        }

        func hash(into hasher: inout Hasher) {
            let utf8 = text.utf8
            hasher.combine(utf8.count)
            let done: Void? = utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            if done == nil {
                for byte in utf8 { hasher.combine(byte) }
            }
        }
    }

    /// A small strict JSON reader (RFC 8259, as Python's `json.loads` accepts it, plus `NaN` and
    /// `Infinity` which Python also reads) that keeps the members of an object in order and reports
    /// errors with line and byte offset.
    struct JSONReader {
        enum Value {
            case object([(key: String, value: Value)])
            case array([Value])
            case string(String)
            case integer(Int)
            case number(String)
            case bool(Bool)
            case null

            var kindName: String {
                switch self {
                case .object: return "an object"
                case .array: return "an array"
                case let .string(s): return "the string \(JSONString.quoted(s, escaping: .visible))"
                case let .integer(i): return "the integer \(i)"
                case let .number(n): return "the number \(n)"
                case let .bool(b): return "\(b)"
                case .null: return "null"
                }
            }
        }

        let bytes: [UInt8]
        let path: String
        var pos = 0
        var depth = 0

        static func parse(_ bytes: [UInt8], path: String) throws -> Value {
            var reader = JSONReader(bytes: bytes, path: path)
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
                throw reader.failure(expected: "a JSON value", found: "a UTF-8 byte order mark")
            }
            try reader.validateUTF8()
            reader.skipWhitespace()
            let value = try reader.parseValue()
            reader.skipWhitespace()
            guard reader.pos == bytes.count else {
                throw reader.failure(expected: "the end of the data after the top-level value", found: reader.describeHere())
            }
            return value
        }

        func failure(expected: String, found: String) -> VocabularyError {
            let line = 1 + bytes[0..<min(pos, bytes.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            return .malformedJSON(path: path, line: line, offset: pos, expected: expected, found: found)
        }

        func describeHere() -> String {
            guard pos < bytes.count else { return "the end of the data" }
            let end = min(bytes.count, pos + 20)
            let snippet = String(decoding: bytes[pos..<end], as: UTF8.self)
            return JSONString.quoted(snippet, escaping: .visible) + (end < bytes.count ? "..." : "")
        }

        mutating func validateUTF8() throws {
            var iterator = bytes.makeIterator()
            var parser = Unicode.UTF8.ForwardParser()
            var offset = 0
            while true {
                switch parser.parseScalar(from: &iterator) {
                case let .valid(encoded):
                    offset += encoded.count
                case .emptyInput:
                    return
                case .error:
                    pos = offset
                    throw failure(expected: "UTF-8 text", found: "an invalid UTF-8 byte 0x\(String(bytes[offset], radix: 16))")
                }
            }
        }

        mutating func skipWhitespace() {
            while pos < bytes.count {
                switch bytes[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        mutating func parseValue() throws -> Value {
            guard pos < bytes.count else { throw failure(expected: "a JSON value", found: "the end of the data") }
            switch bytes[pos] {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "N"): try expectLiteral("NaN"); return .number("NaN")
            case UInt8(ascii: "I"): try expectLiteral("Infinity"); return .number("Infinity")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw failure(expected: "a JSON value", found: describeHere())
            }
        }

        mutating func expectLiteral(_ literal: String) throws {
            let l = Array(literal.utf8)
            guard pos + l.count <= bytes.count, Array(bytes[pos..<(pos + l.count)]) == l else {
                throw failure(expected: "a JSON value", found: describeHere())
            }
            pos += l.count
        }

        mutating func enter() throws {
            depth += 1
            if depth > 512 { throw failure(expected: "at most 512 nested arrays or objects", found: "deeper nesting") }
        }

        mutating func parseObject() throws -> Value {
            try enter()
            defer { depth -= 1 }
            pos += 1
            var members: [(key: String, value: Value)] = []
            skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard pos < bytes.count && bytes[pos] == UInt8(ascii: "\"") else {
                    throw failure(expected: "a string key in double quotes", found: describeHere())
                }
                let key = try parseString()
                skipWhitespace()
                guard pos < bytes.count && bytes[pos] == UInt8(ascii: ":") else {
                    throw failure(expected: "':' after an object key", found: describeHere())
                }
                pos += 1
                skipWhitespace()
                let value = try parseValue()
                members.append((key, value))
                skipWhitespace()
                guard pos < bytes.count else { throw failure(expected: "',' or '}'", found: "the end of the data") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
                throw failure(expected: "',' or '}'", found: describeHere())
            }
        }

        mutating func parseArray() throws -> Value {
            try enter()
            defer { depth -= 1 }
            pos += 1
            var items: [Value] = []
            skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue())
                skipWhitespace()
                guard pos < bytes.count else { throw failure(expected: "',' or ']'", found: "the end of the data") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw failure(expected: "',' or ']'", found: describeHere())
            }
        }

        mutating func parseHex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count else { throw failure(expected: "4 hex digits after \\u", found: describeHere()) }
            var v: UInt32 = 0
            for k in 0..<4 {
                let b = bytes[pos + k]
                let d: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw failure(expected: "4 hex digits after \\u", found: describeHere())
                }
                v = v * 16 + d
            }
            pos += 4
            return v
        }

        mutating func parseString() throws -> String {
            pos += 1  // opening quote
            var buffer: [UInt8] = []
            while true {
                guard pos < bytes.count else { throw failure(expected: "a closing '\"'", found: "the end of the data") }
                let b = bytes[pos]
                if b == UInt8(ascii: "\"") {
                    pos += 1
                    return String(decoding: buffer, as: UTF8.self)  // the data was validated as UTF-8
                }
                if b < 0x20 {
                    throw failure(expected: "a string character", found: "the control character 0x\(String(b, radix: 16)) (must be escaped)")
                }
                if b != UInt8(ascii: "\\") {
                    buffer.append(b)
                    pos += 1
                    continue
                }
                pos += 1
                guard pos < bytes.count else { throw failure(expected: "an escape character after '\\'", found: "the end of the data") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var v = try parseHex4()
                    if (0xD800...0xDBFF).contains(v) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw failure(expected: "a \\u low surrogate after a high surrogate", found: describeHere())
                        }
                        pos += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw failure(expected: "a low surrogate (\\udc00...\\udfff)", found: "\\u\(String(low, radix: 16))")
                        }
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(v) {
                        throw failure(expected: "a character escape", found: "a lone low surrogate \\u\(String(v, radix: 16))")
                    }
                    buffer.append(contentsOf: String(Unicode.Scalar(v)!).utf8)
                default:
                    pos -= 2
                    throw failure(expected: "a JSON escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", found: describeHere())
                }
            }
        }

        mutating func parseNumber() throws -> Value {
            let start = pos
            func digits() -> Int {
                let s = pos
                while pos < bytes.count && bytes[pos] >= UInt8(ascii: "0") && bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
                return pos - s
            }
            if bytes[pos] == UInt8(ascii: "-") {
                pos += 1
                if pos + 8 <= bytes.count && Array(bytes[pos..<(pos + 8)]) == Array("Infinity".utf8) {
                    pos += 8
                    return .number("-Infinity")
                }
            }
            guard pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") else {
                throw failure(expected: "a digit", found: describeHere())
            }
            if bytes[pos] == UInt8(ascii: "0") { pos += 1 } else { _ = digits() }
            var isInteger = true
            if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
                pos += 1
                guard digits() > 0 else { throw failure(expected: "digits after '.'", found: describeHere()) }
                isInteger = false
            }
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
                pos += 1
                if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) { pos += 1 }
                guard digits() > 0 else { throw failure(expected: "digits in the exponent", found: describeHere()) }
                isInteger = false
            }
            let text = String(decoding: bytes[start..<pos], as: UTF8.self)
            if isInteger, let value = Int(text) { return .integer(value) }
            return .number(text)
        }
    }
}
