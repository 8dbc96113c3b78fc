/// A strict reader for the small part of YAML that examples/ci/action/action.yml uses:
/// block maps, block lists of maps, plain, single- and double-quoted scalars, and `|`,
/// `|-`, `>`, `>-` block scalars. Everything else (tabs, flow collections, anchors, tags,
/// duplicate keys, odd indentation) is an error, so a construct the reader does not
/// understand can never be silently misread by the action test.
enum MiniYAML {
    indirect enum Node: Equatable {
        case scalar(String)
        case map([Entry])
        case list([Node])
    }

    struct Entry: Equatable {
        var key: String
        var value: Node
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    static func parse(_ text: String) throws(ParseError) -> Node {
        var reader = Reader(text: text)
        guard let first = reader.nextSignificant() else { return .map([]) }
        guard reader.lines[first].indent == 0 else { throw ParseError(line: first + 1, message: "the document must start at column 1") }
        let node = try reader.block(indent: 0)
        if let rest = reader.nextSignificant() { throw ParseError(line: rest + 1, message: "unexpected indentation") }
        return node
    }

    private struct Line {
        var indent: Int
        var text: String  // without the indentation
        var raw: String
    }

    private struct Reader {
        var lines: [Line]
        var index = 0

        init(text: String) {
            lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { raw in
                let s = String(raw)
                let indent = s.prefix(while: { $0 == " " }).count
                return Line(indent: indent, text: String(s.dropFirst(indent)), raw: s)
            }
        }

        /// The index of the next line that is neither blank nor a comment (from `index`).
        mutating func nextSignificant() -> Int? {
            while index < lines.count {
                let t = lines[index].text
                if t.isEmpty || t.hasPrefix("#") { index += 1; continue }
                return index
            }
            return nil
        }

        func fail(_ message: String, at line: Int? = nil) -> ParseError {
            ParseError(line: (line ?? index) + 1, message: message)
        }

        mutating func block(indent: Int) throws(ParseError) -> Node {
            guard let i = nextSignificant() else { throw fail("a value is missing") }
            if lines[i].raw.contains("\t") { throw fail("tab character", at: i) }
            let t = lines[i].text
            return t == "-" || t.hasPrefix("- ") ? try list(indent: indent) : try map(indent: indent)
        }

        mutating func map(indent: Int) throws(ParseError) -> Node {
            var entries: [Entry] = []
            while let i = nextSignificant() {
                let line = lines[i]
                if line.indent < indent { break }
                if line.indent > indent { throw fail("unexpected indentation", at: i) }
                if line.raw.contains("\t") { throw fail("tab character", at: i) }
                if line.text.hasPrefix("- ") || line.text == "-" { throw fail("a list item where a key was expected", at: i) }
                let (key, rest) = try keyAndRest(line.text, at: i)
                if entries.contains(where: { $0.key == key }) { throw fail("duplicate key `\(key)`", at: i) }
                index = i + 1
                let value: Node
                if rest.isEmpty {
                    guard let j = nextSignificant(), lines[j].indent > indent else { throw fail("`\(key):` has no value", at: i) }
                    value = try block(indent: lines[j].indent)
                } else if ["|", "|-", ">", ">-"].contains(rest) {
                    value = .scalar(try blockScalar(style: rest, parentIndent: indent, at: i))
                } else {
                    value = .scalar(try scalar(rest, at: i))
                }
                entries.append(Entry(key: key, value: value))
            }
            return .map(entries)
        }

        mutating func list(indent: Int) throws(ParseError) -> Node {
            var items: [Node] = []
            while let i = nextSignificant() {
                let line = lines[i]
                if line.indent < indent { break }
                if line.indent > indent { throw fail("unexpected indentation", at: i) }
                guard line.text.hasPrefix("- ") else { break }
                // `- key: value` opens a map whose keys sit two columns further in.
                let inner = String(line.text.dropFirst(2))
                let pad = inner.prefix(while: { $0 == " " }).count
                lines[i] = Line(indent: indent + 2 + pad, text: String(inner.dropFirst(pad)), raw: line.raw)
                guard lines[i].text.contains(":") else { throw fail("only lists of maps are supported", at: i) }
                items.append(try map(indent: indent + 2 + pad))
            }
            return .list(items)
        }

        func keyAndRest(_ text: String, at i: Int) throws(ParseError) -> (String, String) {
            guard let colon = text.firstIndex(of: ":") else { throw fail("expected `key: value`", at: i) }
            let key = String(text[..<colon])
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                throw fail("unsupported key `\(key)`", at: i)
            }
            let after = text[text.index(after: colon)...]
            guard after.isEmpty || after.hasPrefix(" ") else { throw fail("expected a space after `\(key):`", at: i) }
            var rest = after.trimmedSpaces()
            if rest.hasPrefix("#") { rest = "" }
            return (key, rest)
        }

        func scalar(_ text: String, at i: Int) throws(ParseError) -> String {
            if text.hasPrefix("\"") {
                var out = ""
                var rest = Substring(text.dropFirst())
                while let c = rest.popFirst() {
                    if c == "\"" {
                        let tail = rest.trimmedSpaces()
                        guard tail.isEmpty || tail.hasPrefix("#") else { throw fail("text after a quoted scalar", at: i) }
                        return out
                    }
                    if c == "\\" {
                        switch rest.popFirst() {
                        case "\"": out.append("\"")
                        case "\\": out.append("\\")
                        case "n": out.append("\n")
                        default: throw fail("unsupported escape in a double-quoted scalar", at: i)
                        }
                    } else {
                        out.append(c)
                    }
                }
                throw fail("unterminated double-quoted scalar", at: i)
            }
            if text.hasPrefix("'") {
                var out = ""
                var rest = Substring(text.dropFirst())
                while let q = rest.firstIndex(of: "'") {
                    out += rest[..<q]
                    let after = rest[rest.index(after: q)...]
                    if after.hasPrefix("'") { out.append("'"); rest = after.dropFirst(); continue }
                    let tail = after.trimmedSpaces()
                    guard tail.isEmpty || tail.hasPrefix("#") else { throw fail("text after a quoted scalar", at: i) }
                    return out
                }
                throw fail("unterminated single-quoted scalar", at: i)
            }
            if let first = text.first, "[{&*!%@`|>".contains(first) {
                throw fail("unsupported YAML construct starting with `\(first)`", at: i)
            }
            var plain = Substring(text)
            var previous: Character = " "
            for j in plain.indices {
                if plain[j] == "#" && previous == " " { plain = plain[..<j]; break }
                if previous == ":" && plain[j] == " " { throw fail("`: ` inside a plain scalar (quote it)", at: i) }
                previous = plain[j]
            }
            return plain.trimmedSpaces()
        }

        /// The lines of a block scalar after line `i`: every line indented deeper than the
        /// key, and blank lines among them.
        mutating func blockScalar(style: String, parentIndent: Int, at i: Int) throws(ParseError) -> String {
            var body: [String] = []
            var blockIndent: Int?
            while index < lines.count {
                let line = lines[index]
                if line.text.isEmpty { body.append(""); index += 1; continue }
                if line.indent <= parentIndent { break }
                if line.raw.contains("\t") && line.raw.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                    throw fail("tab in the indentation of a block scalar")
                }
                let n = blockIndent ?? line.indent
                blockIndent = n
                guard line.indent >= n else { throw fail("a block scalar line indented less than its first line") }
                body.append(String(line.raw.dropFirst(n)))
                index += 1
            }
            while body.last == "" { body.removeLast() }
            guard !body.isEmpty else { throw fail("an empty block scalar", at: i) }
            if style.hasPrefix("|") {
                return body.joined(separator: "\n") + (style == "|" ? "\n" : "")
            }
            // Folded: lines joined by spaces, a blank line is a line break.
            var out = ""
            for line in body {
                if line.isEmpty { out += "\n"; continue }
                if !out.isEmpty && !out.hasSuffix("\n") { out += " " }
                out += line
            }
            return out + (style == ">" ? "\n" : "")
        }
    }
}

extension MiniYAML.Node {
    /// The value under `key` in a map (nil for other nodes or a missing key).
    subscript(key: String) -> MiniYAML.Node? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    var string: String? {
        if case .scalar(let s) = self { return s }
        return nil
    }

    var keys: [String] {
        if case .map(let entries) = self { return entries.map(\.key) }
        return []
    }
}

private extension StringProtocol {
    /// Without leading and trailing spaces.
    func trimmedSpaces() -> String {
        String(String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " })).reversed())
    }
}
