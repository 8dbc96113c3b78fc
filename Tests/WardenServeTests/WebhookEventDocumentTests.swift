import Testing
import WardenAudit
@testable import WardenServe

/// The event document an agent receives: normalized event, trigger fields, canonical bytes.
@Suite struct WebhookEventDocumentTests {
    typealias F = WebhookFixtures

    @Test func pullRequestDocument() throws {
        let d = try F.deliver(F.github(F.pullRequest()), .github)
        let doc = EventDocument.make(d, trigger: try F.trigger("review-prs"))
        let text = String(decoding: EventDocument.bytes(doc), as: UTF8.self)
        #expect(text == #"{"action":"opened","branch":"main","clone_url":"https://github.com/acme/app.git","commit":"\#(F.sha1)","delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","event":"pull_request","fields":{"missing.field":null,"pull_request.labels.0.name":"deps","pull_request.number":7,"pull_request.title":"Bump deps"},"hook":null,"repository":"acme/app","sender":"alice","source":"github","trigger":"review-prs"}"#)
        // Deterministic, and it reads back as the same value.
        #expect(EventDocument.bytes(EventDocument.make(d, trigger: try F.trigger("review-prs"))) == EventDocument.bytes(doc))
        #expect(try AuditValue.parseJSON(EventDocument.bytes(doc)).get() == doc)
    }

    @Test func webhookDocument() throws {
        let d = try F.deliver(F.hook(#"{"version":"1.2.3","targets":["eu","us"]}"#, delivery: "dep-9"), .hook("deploy"))
        let doc = EventDocument.make(d, trigger: try F.trigger("deploy"))
        #expect(String(decoding: EventDocument.bytes(doc), as: UTF8.self) ==
                #"{"action":null,"branch":null,"clone_url":null,"commit":null,"delivery":"dep-9","event":null,"fields":{"targets.1":"us","version":"1.2.3"},"hook":"deploy","repository":null,"sender":null,"source":"webhook","trigger":"deploy"}"#)
    }

    @Test func fieldPaths() {
        let payload: AuditValue = ["a": ["b": [["c": 1], ["c": 2]], "": "empty", "x.y": "dotted"], "n": nil]
        #expect(EventDocument.field(payload, "a.b.1.c") == 2)
        #expect(EventDocument.field(payload, "a.b.0") == ["c": 1])
        for missing in ["a.b.2.c", "a.b.01.c", "a.b.-1", "a.b.+1", "a.b. 1", "a.b.c", "a.b.1.c.d", "z", "a..", "a.x.y", "n.x", "a.b.9999999999"] {
            #expect(EventDocument.field(payload, missing) == .null, "\(missing)")
        }
        #expect(EventDocument.field(payload, "a.") == "empty")
        #expect(EventDocument.field(payload, "n") == .null)
    }

    /// Control characters from a payload stay escaped in the document's bytes.
    @Test func hostileTextIsEscapedInBytes() throws {
        let d = try F.deliver(F.github(F.pullRequest(title: "x\u{1b}]0;pwned\u{7}\n\"}")), .github)
        let bytes = EventDocument.bytes(EventDocument.make(d, trigger: try F.trigger("review-prs")))
        #expect(!bytes.contains(0x1B))
        #expect(!bytes.contains(0x07))
        #expect(!bytes.contains(0x0A))
        let back = try AuditValue.parseJSON(bytes).get()
        #expect(back["fields"]?["pull_request.title"] == "x\u{1b}]0;pwned\u{7}\n\"}")
    }
}
