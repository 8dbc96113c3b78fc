import Testing
@testable import WardenLanguageServer

@Suite struct FramingTests {
    func frame(_ body: String) -> [UInt8] { Array("Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8) }

    @Test func readsConsecutiveMessagesAndThenTheEnd() {
        var reader = MessageReader(bytes: frame("{\"a\":1}") + Array("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n".utf8) + frame("[]"))
        #expect(reader.next() == .message(Array("{\"a\":1}".utf8)))
        #expect(reader.next() == .message(Array("[]".utf8)))
        #expect(reader.next() == .endOfInput)
    }

    @Test func readsAMessageSplitAcrossManySmallReads() {
        var bytes = frame("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}")
        var reader = MessageReader(readChunk: {
            guard !bytes.isEmpty else { return [] }
            return [bytes.removeFirst()]
        })
        #expect(reader.next() == .message(Array("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}".utf8)))
        #expect(reader.next() == .endOfInput)
    }

    @Test func headerNamesAreCaseInsensitive() {
        var reader = MessageReader(bytes: Array("content-length:  2 \r\n\r\n{}".utf8))
        #expect(reader.next() == .message(Array("{}".utf8)))
    }

    @Test func refusesBrokenHeaders() {
        func first(_ s: [UInt8]) -> ReadResult { var r = MessageReader(bytes: s); return r.next() }
        #expect(first(Array("Content-Type: x\r\n\r\n{}".utf8)) == .failed(.missingContentLength))
        #expect(first(Array("Content-Length: -5\r\n\r\n".utf8)) == .failed(.invalidContentLength("-5")))
        #expect(first(Array("Content-Length: 99999999999999999999\r\n\r\n".utf8)) == .failed(.invalidContentLength("99999999999999999999")))
        #expect(first(Array("Content-Length: 9000000000\r\n\r\n".utf8)) == .failed(.contentTooLarge(9_000_000_000)))
        #expect(first(Array("garbage without colon\r\n\r\n".utf8)) == .failed(.malformedHeader("garbage without colon")))
        #expect(first(Array("Content-Length: 1\u{0}\r\n\r\n{".utf8)) == .failed(.malformedHeader("Content-Length: 1\\x0")))
        #expect(first(Array("Content-Length: 10\r\n\r\n{}".utf8)) == .failed(.truncated))
        #expect(first(Array("Content-Length: 10\r\n".utf8)) == .failed(.truncated))
    }

    @Test func refusesAnEndlessHeaderWithoutReadingItAll() {
        var served = 0
        var reader = MessageReader(readChunk: {
            served += 1
            return served > 10_000 ? [] : [UInt8](repeating: UInt8(ascii: "A"), count: 4096)
        })
        #expect(reader.next() == .failed(.headerTooLong))
        #expect(served < 10)
    }

    @Test func framesWithTheBodysByteLength() {
        let bytes = MessageWriter.frame(.object([("s", .string("é"))]))
        #expect(String(decoding: bytes, as: UTF8.self) == "Content-Length: 10\r\n\r\n{\"s\":\"é\"}")
    }
}

@Suite struct JSONTests {
    @Test func roundTripsValues() throws {
        let text = #"{"a":[1,-2,3.5,true,false,null],"s":"x\"\\\n\u0001é😀","o":{}}"#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value["a"] == .array([.int(1), .int(-2), .double(3.5), .bool(true), .bool(false), .null]))
        #expect(value["s"] == .string("x\"\\\n\u{1}é😀"))
        #expect(try JSONParser.parse(Array(value.serialized.utf8)) == value)
    }

    @Test func decodesSurrogatePairsAndRefusesLoneOnes() throws {
        #expect(try JSONParser.parse(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#""\ud83d""#.utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(#""\ude00x""#.utf8)) }
    }

    @Test func refusesMalformedAndHostileInput() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "tru", "\"\u{1}\"", "[1] x", "{\"a\":1,}", "\u{0}"] {
            #expect(throws: JSONParseError.self, "\(bad.debugDescription)") { try JSONParser.parse(Array(bad.utf8)) }
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        // Deep nesting is refused, not a stack overflow.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
    }
}
