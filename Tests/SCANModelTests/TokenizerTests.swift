import Foundation
import TestSupport
import XCTest
@testable import SCANModel

/// The tokenizer against NLTK 3.10.4: the reference fixture files `tokenize_NAME_SPLIT.jsonl` (every line,
/// tokens and ids) and hand-written cases for Treebank rules that the fixture does not exercise
/// (expected tokens produced with NLTK 3.10.4 `word_tokenize(text, preserve_line=True)`).
final class TokenizerTests: XCTestCase {
    static func referenceDirectory() -> URL { ReferenceFixtures.directory }

    private struct FixtureLine: Decodable {
        let caption: String
        let tokens: [String]
        let ids: [Int]
    }

    /// Every line of every `tokenize_NAME_SPLIT.jsonl`, with the vocabulary `NAME_precomp_vocab.json`.
    func testReferenceFixtures() throws {
        let dir = Self.referenceDirectory()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        let fixtures = names.filter { $0.hasPrefix("tokenize_") && $0.hasSuffix(".jsonl") }.sorted()
        XCTAssertFalse(fixtures.isEmpty, "no tokenize_NAME_SPLIT.jsonl fixture in \(dir.path)")

        let tokenizer = Tokenizer()
        var totalLines = 0
        for file in fixtures {
            let stem = String(file.dropFirst("tokenize_".count).dropLast(".jsonl".count))
            guard let split = stem.lastIndex(of: "_") else {
                XCTFail("\(file): name is not tokenize_NAME_SPLIT.jsonl")
                continue
            }
            let name = String(stem[..<split])
            let vocabPath = dir.appendingPathComponent("\(name)_precomp_vocab.json").path
            let vocab = try Vocabulary(contentsOf: vocabPath)

            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            let lines = data.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }
            XCTAssertFalse(lines.isEmpty, "\(file) has no line")
            var tokenMismatches: [String] = []
            var idMismatches: [String] = []
            for (number, line) in lines.enumerated() {
                let entry = try JSONDecoder().decode(FixtureLine.self, from: Data(line))
                let tokens = tokenizer.tokenize(entry.caption)
                if !Self.exactlyEqual(tokens, entry.tokens) {
                    tokenMismatches.append("line \(number + 1): \(JSONString.quoted(entry.caption, escaping: .visible)): got \(tokens), expected \(entry.tokens)")
                }
                if entry.tokens.isEmpty {
                    XCTAssertThrowsError(try vocab.encode(entry.caption, tokenizer: tokenizer), "\(file) line \(number + 1): empty caption must throw")
                } else {
                    let ids = try vocab.encode(entry.caption, tokenizer: tokenizer)
                    if ids != entry.ids {
                        idMismatches.append("line \(number + 1): \(JSONString.quoted(entry.caption, escaping: .visible)): got \(ids), expected \(entry.ids)")
                    }
                }
            }
            totalLines += lines.count
            print("\(file): \(lines.count) captions, \(tokenMismatches.count) token mismatches, \(idMismatches.count) id mismatches (vocabulary \(name)_precomp_vocab.json, \(vocab.count) words)")
            XCTAssertEqual(tokenMismatches.count, 0, "\(file): \(tokenMismatches.count) of \(lines.count) captions tokenized differently; first: \(tokenMismatches.prefix(5).joined(separator: "\n"))")
            XCTAssertEqual(idMismatches.count, 0, "\(file): \(idMismatches.count) of \(lines.count) captions encoded differently; first: \(idMismatches.prefix(5).joined(separator: "\n"))")
        }
        if !fixtures.isEmpty { XCTAssertGreaterThan(totalLines, 0) }
    }

    /// Python compares strings code point by code point; Swift's == would accept canonical equivalents.
    static func exactlyEqual(_ a: [String], _ b: [String]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { Array($0.unicodeScalars) == Array($1.unicodeScalars) }
    }

    private func check(_ caption: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        let tokens = Tokenizer().tokenize(caption)
        XCTAssertTrue(Self.exactlyEqual(tokens, expected), "\(JSONString.quoted(caption, escaping: .visible)): got \(tokens), expected \(expected)", file: file, line: line)
    }

    func testQuotes() {
        check("He said \"hello\" to me.", ["he", "said", "``", "hello", "''", "to", "me", "."])
        check("\"quoted start", ["``", "quoted", "start"])
        check("a ''quote'' here", ["a", "``", "quote", "''", "here"])
        check("(\"inner\") [''two'']", ["(", "``", "inner", "''", ")", "[", "``", "two", "''", "]"])
        check("say \"hi.\"", ["say", "``", "hi", ".", "''"])
        check("\"", ["``"])
        check("''", ["''"])
        check("`backtick` ``double`` ```triple", ["`", "backtick", "`", "``", "double", "``", "``", "`", "triple"])
        check("“curly” ‘single’ «chevrons» „low", ["“", "curly", "”", "‘", "single", "’", "«", "chevrons", "»", "„", "low"])
        check("'hello' she said", ["'", "hello", "'", "she", "said"])
        check("a 'quote.'", ["a", "'", "quote", ".", "'"])
        check("the 'em and 'n' rock", ["the", "'", "em", "and", "'n", "'", "rock"])
        check("the '90s", ["the", "'", "90s"])
        check("'", ["'"])
    }

    func testContractionsAndClitics() {
        check("The dog isn't running.", ["the", "dog", "is", "n't", "running", "."])
        check("I cannot go, I won't.", ["i", "can", "not", "go", ",", "i", "wo", "n't", "."])
        check("can't.", ["ca", "n't", "."])
        check("cannot.", ["can", "not", "."])
        check("a man's hat and the dogs' bowls", ["a", "man", "'s", "hat", "and", "the", "dogs", "'", "bowls"])
        check("he'll they've you'd I'm we'd she's", ["he", "'ll", "they", "'ve", "you", "'d", "i", "'m", "we", "'d", "she", "'s"])
        check("we're gonna wanna gimme lemme gotta", ["we", "'re", "gon", "na", "wan", "na", "gim", "me", "lem", "me", "got", "ta"])
        check("d'ye more'n wannabe wanna.", ["d", "'ye", "more", "'n", "wannabe", "wan", "na", "."])
        check("'Tis the season, 'twas the night", ["'", "tis", "the", "season", ",", "'", "twas", "the", "night"])
        check("'t is", ["'t", "is"])
        check("o'clock rock 'n' roll", ["o'clock", "rock", "'n", "'", "roll"])
        check("rock'n'roll", ["rock'n'roll"])
        check("Gimme!", ["gim", "me", "!"])
        check("wanna\u{00A0}go", ["wan", "na", "go"])
        check("wanna\u{1C}go", ["wan", "na", "go"])
        // Case-insensitive folding of Python's engines: U+017F and U+0130/U+0131.
        check("ſtill 'ſ", ["ſtill", "'ſ"])
        let raw = Tokenizer()
        XCTAssertEqual(raw.wordTokenize("I DON'T KNOW"), ["I", "DO", "N'T", "KNOW"])
        XCTAssertEqual(raw.wordTokenize("HE'LL SAY IT'S"), ["HE", "'LL", "SAY", "IT", "'S"])
        XCTAssertEqual(raw.wordTokenize("CANNOT GoNNa"), ["CAN", "NOT", "GoN", "Na"])
        XCTAssertEqual(raw.wordTokenize("'TIS 'Twas"), ["'", "TIS", "'", "Twas"])
        XCTAssertEqual(raw.wordTokenize("WANNA GO"), ["WAN", "NA", "GO"])
        XCTAssertEqual(raw.wordTokenize("İs gİmme gımme"), ["İs", "gİm", "me", "gım", "me"])
    }

    func testPunctuation() {
        check("a dog .", ["a", "dog", "."])
        check("a dog.", ["a", "dog", "."])
        check("A dog. A cat.", ["a", "dog.", "a", "cat", "."])
        check("a . b .", ["a", ".", "b", "."])
        check("end.)", ["end", ".", ")"])
        check("end. )", ["end", ".", ")"])
        check("i.e. e.g.", ["i.e.", "e.g", "."])
        check("p.i.n.k. shirt", ["p.i.n.k.", "shirt"])
        check(".", ["."])
        check("..", [".."])
        check("red, white, and blue", ["red", ",", "white", ",", "and", "blue"])
        check("3,000 people at 10:30 pm: a crowd,", ["3,000", "people", "at", "10:30", "pm", ":", "a", "crowd", ","])
        check("x:y,z ,a", ["x", ":", "y", ",", "z", ",", "a"])
        check("wait... what.. really....", ["wait", "...", "what", "..", "really", "...."])
        check("Costs $5.50 and 50% off & more; #1 @home *star*",
              ["costs", "$", "5.50", "and", "50", "%", "off", "&", "more", ";", "#", "1", "@", "home", "*", "star", "*"])
        check("what?! no!", ["what", "?", "!", "no", "!"])
        check("A man (in red) sits [on] {a} <bench>.",
              ["a", "man", "(", "in", "red", ")", "sits", "[", "on", "]", "{", "a", "}", "<", "bench", ">", "."])
        check("rock--n--roll ---", ["rock", "--", "n", "--", "roll", "--", "-"])
        check("a—b 1–2 x‒y ―", ["a", "—", "b", "1", "–", "2", "x", "‒", "y", "―"])
    }

    func testWhitespaceAndCase() {
        check("  A DOG  ", ["a", "dog"])
        check("a\tdog\u{00A0}runs", ["a", "dog", "runs"])
        check("", [])
        check(" \t ", [])
        // Only A-Z are lowercased (the original lowercased UTF-8 bytes).
        check("ÉCOLE Ünder", ["École", "Ünder"])
        XCTAssertEqual(Tokenizer.normalize(" \tA Dog\r\n"), "a dog")
    }
}
