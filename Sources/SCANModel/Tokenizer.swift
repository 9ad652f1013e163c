// Caption tokenizer: a re-implementation of NLTK 3.10.4's `NLTKWordTokenizer` (the improved Treebank
// tokenizer behind `nltk.word_tokenize`) as SCAN applies it (DESIGN §2).
//
// SCAN reads a caption line as bytes, strips ASCII whitespace, lowercases the bytes (ASCII only),
// decodes UTF-8 and calls `word_tokenize`. The reference fixtures use `preserve_line=True` (no punkt
// sentence split), which is what this type does.
//
// Every NLTK rule is a regular-expression substitution applied to the whole string, one after the
// other. Each rule is written out below as a hand-coded scanner over Unicode scalars (Python strings are
// sequences of code points) with exactly the semantics of Python's `sub`: the pattern is searched
// left to right, matches do not overlap, look-arounds see the string as it was before that rule.
// Hand-coded scanners avoid the differences between ICU (NSRegularExpression) and Python's engines in
// `\w`, `\s`, `\b`, `$` and case folding, and are much faster.
//
// NLTK 3.10.4 compiles most of its patterns with the third-party `regex` module and the contraction
// patterns with the standard `re` module, which disagree on a few character classes:
//   `regex` \w: Alphabetic, marks, Nd, Pc, Join_Control    `re` \w: letters (L*), any Numeric_Type, "_"
//   `regex` \s: Unicode White_Space                        `re` \s: str.isspace() (adds U+001C...U+001F)
//   `(?i)`: both let "s" match U+017F and "k" U+212A; "i" matches U+0130 (both) and U+0131 (`re` only).
// Python's `str.split()` (the final step) splits on str.isspace() characters.
// Characters assigned after Unicode 16 (Swift's tables) may classify differently from Python's; such
// characters do not occur in caption data.

/// NLTK Treebank word tokenizer (NLTK 3.10.4 `word_tokenize(text, preserve_line=True)`) with SCAN's
/// pre-processing (strip ASCII whitespace, lowercase ASCII letters).
public struct Tokenizer: Sendable, Hashable {
    public init() {}

    /// Tokens of a caption exactly as SCAN computes them: strip the ASCII whitespace at both ends,
    /// lowercase `A`-`Z` (nothing else: the original lowercased UTF-8 bytes), then apply NLTK's
    /// `NLTKWordTokenizer`.
    public func tokenize(_ caption: String) -> [String] {
        Self.treebank(Self.prepare(caption))
    }

    /// `NLTKWordTokenizer().tokenize(text)` of NLTK 3.10.4 on `text` as given: no stripping, no
    /// lowercasing.
    public func wordTokenize(_ text: String) -> [String] {
        Self.treebank(Array(text.unicodeScalars))
    }

    /// The text SCAN hands to NLTK: ASCII whitespace stripped at both ends, `A`-`Z` lowercased.
    public static func normalize(_ caption: String) -> String {
        var s = String()
        s.unicodeScalars.append(contentsOf: prepare(caption))
        return s
    }

    // MARK: - Pre-processing

    typealias Scalar = Unicode.Scalar

    static func prepare(_ caption: String) -> [Scalar] {
        var t = Array(caption.unicodeScalars)
        // bytes.strip(): b" \t\n\r\x0b\x0c"
        var lo = 0
        var hi = t.count
        while lo < hi && isASCIIWhitespace(t[lo]) { lo += 1 }
        while hi > lo && isASCIIWhitespace(t[hi - 1]) { hi -= 1 }
        if lo > 0 || hi < t.count { t = Array(t[lo..<hi]) }
        for i in t.indices where t[i].value >= 0x41 && t[i].value <= 0x5A {
            t[i] = Scalar(t[i].value + 0x20)!
        }
        return t
    }

    static func isASCIIWhitespace(_ c: Scalar) -> Bool {
        switch c.value {
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return true
        default: return false
        }
    }

    // MARK: - The NLTKWordTokenizer rules, in NLTK's order

    static func treebank(_ input: [Scalar]) -> [String] {
        var t = input
        // STARTING_QUOTES
        t = padOpeningQuotesAndBackticks(t)                 // ([«“‘„]|[`]+)            -> " \1 "
        if t.first == "\"" { t.replaceSubrange(0..<1, with: ["`", "`"]) }  // ^\"  -> ``
        t = replaceLiteral(t, ["`", "`"], with: [" ", "`", "`", " "])      // (``) -> " \1 "
        t = openingDoubleQuotes(t)                          // ([ \(\[{<])(\"|\'{2})    -> "\1 `` "
        t = splitOpeningApostrophe(t)                       // (?<!\w)(\')(?!clitic\b)(?=\w) -> "\1 "
        // PUNCTUATION
        t = finalPeriod(t, closers: isFinalPeriodCloserWide, spaceBeforeClosers: true)
        t = commaColonBeforeNonDigit(t)                     // ([:,])([^\d]) -> " \1 \2"
        t = commaColonAtEnd(t)                              // ([:,])$       -> " \1 "
        t = padDotRuns(t)                                   // \.{2,}        -> " \g<0> "
        t = padEach(t) { c in c == ";" || c == "@" || c == "#" || c == "$" || c == "%" || c == "&" }
        t = padEach(t) { c in c.value >= 0x2012 && c.value <= 0x2015 }   // figure/en/em dash, bar
        t = finalPeriod(t, closers: isFinalPeriodCloserNarrow, spaceBeforeClosers: false)
        t = padEach(t) { c in c == "?" || c == "!" }
        t = apostropheBeforeSpace(t)                        // ([^'])' -> "\1 ' "
        t = padEach(t) { c in c == "*" }
        // PARENS_BRACKETS
        t = padEach(t) { c in
            c == "]" || c == "[" || c == "(" || c == ")" || c == "{" || c == "}" || c == "<" || c == ">"
        }
        // DOUBLE_DASHES
        t = replaceLiteral(t, ["-", "-"], with: [" ", "-", "-", " "])
        // add extra space to make things easier
        t.insert(" ", at: 0)
        t.append(" ")
        // ENDING_QUOTES
        t = padEach(t) { c in c == "»" || c == "”" || c == "’" }
        t = replaceLiteral(t, ["'", "'"], with: [" ", "'", "'", " "])
        t = replaceLiteral(t, ["\""], with: [" ", "'", "'", " "])
        t = collapseWhitespace(t)                           // \s+ -> " "
        t = splitShortClitics(t)                            // ([^' ])('[sS]|'[mM]|'[dD]|') -> "\1 \2 "
        t = splitLongClitics(t)                             // ([^' ])('ll|...|n't|N'T) -> "\1 \2 "
        // CONTRACTIONS2 (stdlib `re`, case-insensitive): " \1 \2 "
        for (first, second, needsSpaceAfter) in contractions2 {
            t = splitContraction(t, first, second, needsSpaceAfter: needsSpaceAfter)
        }
        // CONTRACTIONS3 (stdlib `re`, case-insensitive): (?i) ('t)(is)\b -> " \1 \2 "
        for second in contractions3 {
            t = splitTContraction(t, second)
        }
        return splitOnWhitespace(t)
    }

    /// MacIntyre's CONTRACTIONS2: `\b(first)(second)\b`, the last one `\b(wan)(na)(?=\s)`.
    private static let contractions2: [([Scalar], [Scalar], Bool)] = [
        (scalars("can"), scalars("not"), false),
        (scalars("d"), scalars("'ye"), false),
        (scalars("gim"), scalars("me"), false),
        (scalars("gon"), scalars("na"), false),
        (scalars("got"), scalars("ta"), false),
        (scalars("lem"), scalars("me"), false),
        (scalars("more"), scalars("'n"), false),
        (scalars("wan"), scalars("na"), true),
    ]

    /// MacIntyre's CONTRACTIONS3: ` ('t)(is)\b` and ` ('t)(was)\b`.
    private static let contractions3: [[Scalar]] = [scalars("is"), scalars("was")]

    private static func scalars(_ s: String) -> [Scalar] { Array(s.unicodeScalars) }

    // MARK: - Character classes

    /// `\w` of the `regex` module (NLTK's `redos.compile`): Alphabetic, Mark, Nd, Pc, Join_Control.
    static func isRegexWord(_ c: Scalar) -> Bool {
        if c.value < 0x80 { return isASCIIWordChar(c) }
        let p = c.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            return true
        default:
            return false
        }
    }

    /// `\w` of Python's `re` (str.isalnum() or "_"): letters, characters with a Numeric_Type, "_".
    static func isReWord(_ c: Scalar) -> Bool {
        if c.value < 0x80 { return isASCIIWordChar(c) }
        let p = c.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return p.numericType != nil
        }
    }

    private static func isASCIIWordChar(_ c: Scalar) -> Bool {
        switch c.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
        default: return false
        }
    }

    /// `\s` of the `regex` module: Unicode White_Space.
    static func isRegexSpace(_ c: Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's str.isspace(), which is also `\s` of the `re` module and what str.split() splits on.
    static func isPythonSpace(_ c: Scalar) -> Bool {
        (c.value >= 0x1C && c.value <= 0x1F) || isRegexSpace(c)
    }

    /// `\d` (both engines): general category Nd.
    static func isDecimalDigit(_ c: Scalar) -> Bool {
        if c.value < 0x80 { return c.value >= 0x30 && c.value <= 0x39 }
        return c.properties.generalCategory == .decimalNumber
    }

    /// Case-insensitive comparison of input `c` with an ASCII pattern character `p` under Python's
    /// simple case folding: the ASCII pair plus U+0130/U+0131 for "i", U+017F for "s", U+212A for "k".
    /// `dotlessI` says whether U+0131 matches "i" (true for `re`, false for `regex`).
    static func equalIgnoringCase(_ c: Scalar, _ p: Scalar, dotlessI: Bool) -> Bool {
        if c == p { return true }
        let pv = p.value
        guard pv >= 0x61 && pv <= 0x7A else { return false }
        if c.value == pv - 0x20 { return true }
        switch (pv, c.value) {
        case (0x69, 0x130): return true
        case (0x69, 0x131): return dotlessI
        case (0x73, 0x17F): return true
        case (0x6B, 0x212A): return true
        default: return false
        }
    }

    /// Whether `t[at...]` starts with `pattern`, case-insensitively.
    static func hasPrefixIgnoringCase(_ t: [Scalar], at: Int, _ pattern: [Scalar], dotlessI: Bool) -> Bool {
        guard at >= 0, at + pattern.count <= t.count else { return false }
        for (k, p) in pattern.enumerated() where !equalIgnoringCase(t[at + k], p, dotlessI: dotlessI) {
            return false
        }
        return true
    }

    /// `\b` at position `i` with the given `\w`.
    static func isBoundary(_ t: [Scalar], _ i: Int, word: (Scalar) -> Bool) -> Bool {
        let before = i > 0 && word(t[i - 1])
        let after = i < t.count && word(t[i])
        return before != after
    }

    // MARK: - Generic substitutions

    /// Left-to-right, non-overlapping rewriting: the scaffold of every substitution below. At each
    /// position `match(i, &replacement)` either appends the replacement of a match starting at i and
    /// returns how many scalars it consumed, or returns 0 (appending nothing) and the scalar is kept. `t` itself comes
    /// back when nothing matched, which is what most rules do to most captions, without a copy.
    @inline(__always)
    static func rewrite(_ t: [Scalar], _ match: (_ i: Int, _ replacement: inout [Scalar]) -> Int) -> [Scalar] {
        var out: [Scalar] = []
        var replacement: [Scalar] = []
        var changed = false
        var i = 0
        while i < t.count {
            // `match` appends only when it matches, so the buffer is cleared after each use only.
            let consumed = match(i, &replacement)
            if consumed > 0 {
                if !changed {
                    out.reserveCapacity(t.count + 16)
                    out.append(contentsOf: t[0..<i])
                    changed = true
                }
                out.append(contentsOf: replacement)
                replacement.removeAll(keepingCapacity: true)
                i += consumed
            } else {
                if changed { out.append(t[i]) }
                i += 1
            }
        }
        return changed ? out : t
    }

    /// Every character matching `predicate` becomes " c ".
    static func padEach(_ t: [Scalar], _ predicate: (Scalar) -> Bool) -> [Scalar] {
        guard t.contains(where: predicate) else { return t }
        var out: [Scalar] = []
        out.reserveCapacity(t.count + 16)
        for c in t {
            if predicate(c) {
                out.append(" ")
                out.append(c)
                out.append(" ")
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Non-overlapping left-to-right replacement of a literal.
    static func replaceLiteral(_ t: [Scalar], _ pattern: [Scalar], with replacement: [Scalar]) -> [Scalar] {
        let m = pattern.count
        return rewrite(t) { i, out in
            guard i + m <= t.count && t[i] == pattern[0] && t[i..<(i + m)].elementsEqual(pattern) else { return 0 }
            out.append(contentsOf: replacement)
            return m
        }
    }

    // MARK: - STARTING_QUOTES

    /// `([«“‘„]|[`]+)` -> `" \1 "`.
    static func padOpeningQuotesAndBackticks(_ t: [Scalar]) -> [Scalar] {
        rewrite(t) { i, out in
            let c = t[i]
            if c == "«" || c == "“" || c == "‘" || c == "„" {
                out.append(contentsOf: [" ", c, " "])
                return 1
            }
            guard c == "`" else { return 0 }
            var j = i
            while j < t.count && t[j] == "`" { j += 1 }
            out.append(" ")
            out.append(contentsOf: t[i..<j])
            out.append(" ")
            return j - i
        }
    }

    /// `([ \(\[{<])(\"|\'{2})` -> "\1 `` ".
    static func openingDoubleQuotes(_ t: [Scalar]) -> [Scalar] {
        let n = t.count
        return rewrite(t) { i, out in
            let c = t[i]
            guard c == " " || c == "(" || c == "[" || c == "{" || c == "<" else { return 0 }
            var quoteLength = 0
            if i + 1 < n && t[i + 1] == "\"" {
                quoteLength = 1
            } else if i + 2 < n && t[i + 1] == "'" && t[i + 2] == "'" {
                quoteLength = 2
            }
            guard quoteLength > 0 else { return 0 }
            out.append(contentsOf: [c, " ", "`", "`", " "])
            return 1 + quoteLength
        }
    }

    private static let apostropheClitics: [[Scalar]] = ["re", "ve", "ll", "m", "t", "s", "d", "n"].map(scalars)

    /// `(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)` -> `"\1 "` (`regex` module classes).
    static func splitOpeningApostrophe(_ t: [Scalar]) -> [Scalar] {
        guard t.contains("'") else { return t }
        let n = t.count
        var out: [Scalar] = []
        out.reserveCapacity(n + 8)
        for i in 0..<n {
            out.append(t[i])
            guard t[i] == "'" else { continue }
            if i > 0 && isRegexWord(t[i - 1]) { continue }
            guard i + 1 < n && isRegexWord(t[i + 1]) else { continue }
            let isClitic = apostropheClitics.contains { clitic in
                hasPrefixIgnoringCase(t, at: i + 1, clitic, dotlessI: false)
                    && isBoundary(t, i + 1 + clitic.count, word: isRegexWord)
            }
            if !isClitic { out.append(" ") }
        }
        return out
    }

    // MARK: - PUNCTUATION

    /// Closing characters after a final period, first rule: `]`, `)`, `}`, `>`, `"`, `'`, `»`, `”`, `’`, space.
    static func isFinalPeriodCloserWide(_ c: Scalar) -> Bool {
        switch c {
        case "]", ")", "}", ">", "\"", "'", "»", "”", "’", " ": return true
        default: return false
        }
    }

    /// Closing characters after a final period, second rule: `]`, `)`, `}`, `>`, `"`, `'`.
    static func isFinalPeriodCloserNarrow(_ c: Scalar) -> Bool {
        switch c {
        case "]", ")", "}", ">", "\"", "'": return true
        default: return false
        }
    }

    /// `([^\.])(\.)([closers]*)\s*$` -> `"\1 \2 \3 "` (first rule, possessive `*+`) or `"\1 \2\3 "`
    /// (second rule). A match's period is necessarily the last period of the text, so only that one is
    /// tried. The closer classes contain no period and (second rule) no whitespace, so greedy matching
    /// never needs to backtrack; `$` also matches before a final newline, which `\s*` has consumed.
    static func finalPeriod(_ t: [Scalar], closers: (Scalar) -> Bool, spaceBeforeClosers: Bool) -> [Scalar] {
        guard let p = t.lastIndex(of: "."), p >= 1, t[p - 1] != "." else { return t }
        var j = p + 1
        while j < t.count && closers(t[j]) { j += 1 }
        var k = j
        while k < t.count && isRegexSpace(t[k]) { k += 1 }
        guard k == t.count else { return t }
        var out = Array(t[0..<p])
        out.append(" ")
        out.append(".")
        if spaceBeforeClosers { out.append(" ") }
        out.append(contentsOf: t[(p + 1)..<j])
        out.append(" ")
        return out
    }

    /// `([:,])([^\d])` -> `" \1 \2"`.
    static func commaColonBeforeNonDigit(_ t: [Scalar]) -> [Scalar] {
        rewrite(t) { i, out in
            let c = t[i]
            guard (c == ":" || c == ",") && i + 1 < t.count && !isDecimalDigit(t[i + 1]) else { return 0 }
            out.append(contentsOf: [" ", c, " ", t[i + 1]])
            return 2
        }
    }

    /// `([:,])$` -> `" \1 "`; `$` matches at the end or before a final newline.
    static func commaColonAtEnd(_ t: [Scalar]) -> [Scalar] {
        let n = t.count
        var at = -1
        if n >= 1 && (t[n - 1] == ":" || t[n - 1] == ",") {
            at = n - 1
        } else if n >= 2 && t[n - 1] == "\n" && (t[n - 2] == ":" || t[n - 2] == ",") {
            at = n - 2
        }
        guard at >= 0 else { return t }
        var out = Array(t[0..<at])
        out.append(" ")
        out.append(t[at])
        out.append(" ")
        out.append(contentsOf: t[(at + 1)...])
        return out
    }

    /// `\.{2,}` -> `" \g<0> "`.
    static func padDotRuns(_ t: [Scalar]) -> [Scalar] {
        rewrite(t) { i, out in
            var j = i
            while j < t.count && t[j] == "." { j += 1 }
            guard j - i >= 2 else { return 0 }
            out.append(" ")
            out.append(contentsOf: t[i..<j])
            out.append(" ")
            return j - i
        }
    }

    /// `([^'])' ` -> `"\1 ' "`.
    static func apostropheBeforeSpace(_ t: [Scalar]) -> [Scalar] {
        rewrite(t) { i, out in
            guard t[i] != "'" && i + 2 < t.count && t[i + 1] == "'" && t[i + 2] == " " else { return 0 }
            out.append(contentsOf: [t[i], " ", "'", " "])
            return 3
        }
    }

    // MARK: - ENDING_QUOTES

    /// `\s+` -> `" "` (`regex` module `\s`).
    static func collapseWhitespace(_ t: [Scalar]) -> [Scalar] {
        var out: [Scalar] = []
        out.reserveCapacity(t.count)
        var inSpace = false
        for c in t {
            if isRegexSpace(c) {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                out.append(c)
                inSpace = false
            }
        }
        return out
    }

    /// `([^' ])('[sS]|'[mM]|'[dD]|') ` -> `"\1 \2 "`.
    static func splitShortClitics(_ t: [Scalar]) -> [Scalar] {
        let n = t.count
        return rewrite(t) { i, out in
            let c = t[i]
            guard c != "'" && c != " " && i + 2 < n && t[i + 1] == "'" else { return 0 }
            let next = t[i + 2]
            let isLetter = next == "s" || next == "S" || next == "m" || next == "M" || next == "d" || next == "D"
            if isLetter && i + 3 < n && t[i + 3] == " " {
                out.append(contentsOf: [c, " ", "'", next, " "])
                return 4
            }
            guard next == " " else { return 0 }
            out.append(contentsOf: [c, " ", "'", " "])
            return 3
        }
    }

    private static let longClitics: [[Scalar]] = ["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"].map(scalars)

    /// `([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ` -> `"\1 \2 "`.
    static func splitLongClitics(_ t: [Scalar]) -> [Scalar] {
        rewrite(t) { i, out in
            let c = t[i]
            guard c != "'" && c != " " && i + 4 < t.count && t[i + 4] == " " && (t[i + 2] == "'" || t[i + 1] == "'") else { return 0 }
            let candidate = t[(i + 1)..<(i + 4)]
            guard longClitics.contains(where: { candidate.elementsEqual($0) }) else { return 0 }
            out.append(contentsOf: [c, " "])
            out.append(contentsOf: candidate)
            out.append(" ")
            return 5
        }
    }

    // MARK: - CONTRACTIONS2 / CONTRACTIONS3 (stdlib `re`)

    /// `(?i)\b(first)(second)\b` (or `(?=\s)` at the end) -> `" \1 \2 "`.
    static func splitContraction(_ t: [Scalar], _ first: [Scalar], _ second: [Scalar], needsSpaceAfter: Bool) -> [Scalar] {
        let n = t.count
        let whole = first + second
        let m = whole.count
        return rewrite(t) { i, out in
            guard i + m <= n && hasPrefixIgnoringCase(t, at: i, whole, dotlessI: true) && isBoundary(t, i, word: isReWord) else { return 0 }
            let e = i + m
            let endOK = needsSpaceAfter ? (e < n && isPythonSpace(t[e])) : isBoundary(t, e, word: isReWord)
            guard endOK else { return 0 }
            out.append(" ")
            out.append(contentsOf: t[i..<(i + first.count)])
            out.append(" ")
            out.append(contentsOf: t[(i + first.count)..<e])
            out.append(" ")
            return m
        }
    }

    private static let apostropheT: [Scalar] = ["'", "t"]

    /// `(?i) ('t)(second)\b` -> `" \1 \2 "`.
    static func splitTContraction(_ t: [Scalar], _ second: [Scalar]) -> [Scalar] {
        let whole = apostropheT + second
        let m = whole.count
        return rewrite(t) { i, out in
            guard t[i] == " " && i + 1 + m <= t.count
                && hasPrefixIgnoringCase(t, at: i + 1, whole, dotlessI: true)
                && isBoundary(t, i + 1 + m, word: isReWord) else { return 0 }
            out.append(" ")
            out.append(contentsOf: t[(i + 1)..<(i + 3)])
            out.append(" ")
            out.append(contentsOf: t[(i + 3)..<(i + 1 + m)])
            out.append(" ")
            return 1 + m
        }
    }

    // MARK: - str.split()

    static func splitOnWhitespace(_ t: [Scalar]) -> [String] {
        var tokens: [String] = []
        var current = String()
        var inToken = false
        for c in t {
            if isPythonSpace(c) {
                if inToken {
                    tokens.append(current)
                    current = String()
                    inToken = false
                }
            } else {
                current.unicodeScalars.append(c)
                inToken = true
            }
        }
        if inToken { tokens.append(current) }
        return tokens
    }
}
