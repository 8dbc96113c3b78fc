/// A refusal of an HTTP message: the status the broker answers with and a reason fit for
/// the agent and the audit trail (it never quotes secret values; it may name header names).
///
/// Statuses: 400 (malformed or ambiguous), 413 (a length too large), 417 (an `Expect` other
/// than `100-continue`), 431 (head or header count too large), 501 (a feature the broker does
/// not implement: CONNECT, upgrades, transfer codings other than `chunked`), 502 (a response
/// from upstream the broker cannot forward safely), 505 (an HTTP version other than 1.0/1.1).
public struct HTTPRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status): \(reason)" }
}
