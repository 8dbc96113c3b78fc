import Testing
@testable import WardenLanguageServer

@Suite struct PositionTests {
    @Test func countsCharactersInUTF16() {
        // "é" is 2 UTF-8 bytes and 1 UTF-16 unit; "😀" is 4 bytes and 2 units.
        let map = LineMap("ab\né😀x\r\nlast")
        #expect(map.position(of: 0) == LSPPosition(line: 0, character: 0))
        #expect(map.position(of: 3) == LSPPosition(line: 1, character: 0))
        #expect(map.position(of: 5) == LSPPosition(line: 1, character: 1))   // after é
        #expect(map.position(of: 9) == LSPPosition(line: 1, character: 3))   // after 😀
        #expect(map.position(of: 10) == LSPPosition(line: 1, character: 4))  // after x
        #expect(map.position(of: 12) == LSPPosition(line: 2, character: 0))
        #expect(map.position(of: 7) == LSPPosition(line: 1, character: 1))   // inside 😀: its start
        #expect(map.position(of: 1000) == LSPPosition(line: 2, character: 4))
    }

    @Test func convertsPositionsBackToOffsets() {
        let map = LineMap("ab\né😀x\r\nlast")
        #expect(map.offset(of: LSPPosition(line: 1, character: 1)) == 5)
        #expect(map.offset(of: LSPPosition(line: 1, character: 3)) == 9)
        #expect(map.offset(of: LSPPosition(line: 1, character: 2)) == 5)     // inside the surrogate pair
        #expect(map.offset(of: LSPPosition(line: 1, character: 99)) == 10)   // past the line's end, before \r
        #expect(map.offset(of: LSPPosition(line: 9, character: 0)) == map.bytes.count)
        for offset in [0, 3, 5, 9, 10, 12, 16] {
            #expect(map.offset(of: map.position(of: offset)) == offset)
        }
    }

    @Test func mapsFileURIsAndPaths() {
        #expect(DocumentURI.path("file:///home/a%20b/p%C3%A9.warden") == "/home/a b/pé.warden")
        #expect(DocumentURI.uri("/home/a b/pé.warden") == "file:///home/a%20b/p%C3%A9.warden")
        #expect(DocumentURI.path("file://localhost/etc/x") == "/etc/x")
        #expect(DocumentURI.path("untitled:Untitled-1") == "untitled:Untitled-1")
    }
}
