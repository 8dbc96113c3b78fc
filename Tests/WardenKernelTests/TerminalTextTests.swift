import Testing
import WardenKernel

@Suite struct TerminalTextTests {
    @Test func escapesControlAndInvisibleCharacters() {
        #expect(TerminalText.escape("a\u{0}b\u{1b}[31mc\u{7}\r\n\t\u{7f}") == "a\\x00b\\x1b[31mc\\x07\\r\\n\\t\\x7f")
        #expect(TerminalText.escape("\u{9b}2J \u{202e}txt.exe \u{2028}\u{200b}\u{feff}") == "\\u009b2J \\u202etxt.exe \\u2028\\u200b\\ufeff")
    }

    @Test func keepsOrdinaryTextAsIs() {
        let text = "/home/ü/файл — 日本語 \\x1b \"q\""
        #expect(TerminalText.escape(text) == text)
        #expect(TerminalText.escape("a\tb", keepTabs: true) == "a\tb")
        // Backslashes are doubled only on request (audit data, where the result must be unambiguous).
        #expect(TerminalText.escape("a\\b\u{1b}", doublingBackslashes: true) == "a\\\\b\\x1b")
    }

    @Test func cutsLongTextWithAMarker() {
        #expect(TerminalText.escape("abcdef", maxScalars: 3) == "abc…")
        #expect(TerminalText.escape("ab\u{1b}", maxScalars: 3) == "ab\\x1b")
    }
}
