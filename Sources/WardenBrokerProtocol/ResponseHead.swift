/// A response head from upstream, parsed with the request parser's strictness where it
/// matters for framing, tolerant of harmless variations real servers send.
public struct ResponseHead: Sendable {
    public var version: (major: Int, minor: Int)
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var framing: BodyFraming
    public var keepAlive: Bool
    public var connectionOptions: Set<String>

    /// A 1xx response other than 101: another head follows it.
    public var isInterim: Bool { status >= 100 && status < 200 }

    public static func parse(_ head: [UInt8], requestMethod: String) throws(HTTPRefusal) -> ResponseHead {
        throw HTTPRefusal(status: 502, reason: "unimplemented")
    }

    public func serialized(setting: [(name: String, value: String)] = [], removing: Set<String> = []) -> [UInt8] {
        []
    }
}
