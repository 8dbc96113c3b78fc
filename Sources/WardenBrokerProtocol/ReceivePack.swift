/// One ref-update command of a git push.
public struct RefUpdate: Sendable, Equatable {
    public let old: String
    public let new: String
    public let ref: String

    public init(old: String, new: String, ref: String) {
        self.old = old
        self.new = new
        self.ref = ref
    }

    /// The new object id is all zeros: the push deletes the ref.
    public var isDeletion: Bool { new.allSatisfy { $0 == "0" } }
    /// The old object id is all zeros: the push creates the ref.
    public var isCreation: Bool { old.allSatisfy { $0 == "0" } }
}

/// The result of parsing the start of a `git-receive-pack` request body.
public enum ReceivePackParse: Sendable, Equatable {
    case needMore
    /// The commands and the number of bytes up to and including the flush packet.
    case commands([RefUpdate], consumed: Int)
    case invalid(String)
}

/// Parses the pkt-line command list at the start of a receive-pack body, up to its flush.
public func parseReceivePackCommands(_ body: [UInt8], limit: Int) -> ReceivePackParse {
    .invalid("unimplemented")
}
