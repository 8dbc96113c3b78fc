#if canImport(Glibc)
import Glibc
#endif

/// The run-token issuer's keys on disk.
///
/// One directory (mode 0700, owned by the operator; see `defaultDirectory`) holds:
/// - `KID.pub` (mode 0644): `warden-es256-public v1 <base64url of the 65-byte point>`, one per
///   key ever made and not yet removed: all of them are in the JWKS, so tokens signed by a
///   retired key still verify until the operator deletes its `.pub`.
/// - `KID.key` (mode 0600): `warden-es256-private v1 <base64url of the 32-byte scalar>`,
///   only for the current key (rotation deletes the previous private key).
/// - `current` (mode 0600): the current key's KID; replaced atomically by rotation.
///
/// Nothing is followed through a symbolic link; files and the directory must belong to this
/// user, and private files must not be accessible to group or others.
public struct IssuerKeys: Sendable {
    public let directory: String

    static let privateHeader = "warden-es256-private v1"
    static let publicHeader = "warden-es256-public v1"
    static let currentName = "current"

    public init(directory: String) { self.directory = directory }

    /// `$WARDEN_IDENTITY_KEYS`, else `/var/lib/warden/identity` for root, else
    /// `$XDG_STATE_HOME/warden/identity` (default `~/.local/state/warden/identity`): beside
    /// the default audit log's directory.
    public static func defaultDirectory(environment: [String: String], uid: UInt32 = getuid()) -> String {
        if let v = environment["WARDEN_IDENTITY_KEYS"], !v.isEmpty { return v }
        if uid == 0 { return "/var/lib/warden/identity" }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/warden/identity" }
        var home = environment["HOME"] ?? ""
        if home.isEmpty, let pw = getpwuid(uid), let dir = pw.pointee.pw_dir { home = String(cString: dir) }
        return (home.isEmpty ? "" : home) + "/.local/state/warden/identity"
    }

    /// `$WARDEN_ISSUER`, else `https://warden.invalid/<host name>`.
    public static func defaultIssuer(environment: [String: String], hostName: String) -> String {
        if let v = environment["WARDEN_ISSUER"], !v.isEmpty { return v }
        return "https://warden.invalid/" + hostName
    }

    // MARK: - Reading

    /// The key that signs new tokens. Throws `.noKey` when none was created yet.
    public func current() throws(IdentityError) -> IssuerSigningKey {
        let dir = try KeyDirectory(path: directory, create: false)
        return try current(in: dir)
    }

    private func current(in dir: borrowing KeyDirectory) throws(IdentityError) -> IssuerSigningKey {
        var kid = ""
        var found: [UInt8]?
        // A rotation between reading `current` and the key file deletes the key it named:
        // read `current` again (a few times) before calling the key missing.
        for _ in 0..<3 where found == nil {
            guard let pointer = try dir.read(Self.currentName, secret: true, limit: 128) else { throw .noKey(directory: directory) }
            kid = try Self.keyID(pointer, path: directory + "/" + Self.currentName)
            found = try dir.read(kid + ".key", secret: true)
        }
        let name = kid + ".key"
        guard let bytes = found else {
            throw .keyFile(path: directory + "/" + name, reason: "the current key's private file is missing")
        }
        let raw = try Self.payload(bytes, header: Self.privateHeader, path: directory + "/" + name)
        let key: IssuerSigningKey
        do { key = try IssuerSigningKey(raw: raw) } catch {
            throw .keyFile(path: directory + "/" + name, reason: "not a P-256 private key")
        }
        guard key.publicKey.keyID == kid else {
            throw .keyFile(path: directory + "/" + name, reason: "holds a key whose id is not \(kid)")
        }
        return key
    }

    /// Every public key (the current one first, then the others by id): the JWKS.
    public func publicKeys() throws(IdentityError) -> [IssuerPublicKey] {
        let dir = try KeyDirectory(path: directory, create: false)
        var keys: [IssuerPublicKey] = []
        for name in try dir.names(endingIn: ".pub") {
            guard let bytes = try dir.read(name, secret: false) else { continue }
            let path = directory + "/" + name
            let key: IssuerPublicKey
            do { key = try IssuerPublicKey(x963: try Self.payload(bytes, header: Self.publicHeader, path: path)) } catch {
                throw .keyFile(path: path, reason: "not a P-256 public key")
            }
            guard key.keyID + ".pub" == name else { throw .keyFile(path: path, reason: "holds a key whose id is not its file name") }
            keys.append(key)
        }
        if let pointer = try dir.read(Self.currentName, secret: true, limit: 128),
           let kid = try? Self.keyID(pointer, path: directory), let i = keys.firstIndex(where: { $0.keyID == kid }) {
            keys.insert(keys.remove(at: i), at: 0)
        }
        return keys
    }

    // MARK: - Writing

    /// The current key, creating the directory and a first key when there is none (a run's
    /// first launch). Concurrent first launches agree on one key: the loser of the race to
    /// publish `current` removes its own key and uses the winner's.
    public func currentOrCreate() throws(IdentityError) -> (key: IssuerSigningKey, created: Bool) {
        let dir = try KeyDirectory(path: directory, create: true)
        if try dir.read(Self.currentName, secret: true, limit: 128) != nil { return (try current(in: dir), false) }
        let key = IssuerSigningKey.generate()
        try write(key, in: dir)
        let kid = key.publicKey.keyID
        guard try dir.publish(Self.currentName, bytes: Array((kid + "\n").utf8), mode: 0o600, replace: false) else {
            try dir.remove(kid + ".key")
            try dir.remove(kid + ".pub")
            return (try current(in: dir), false)
        }
        return (key, true)
    }

    /// Makes a new current key; the previous key's private file is deleted and its public
    /// file kept (tokens it signed still verify until the operator removes `KID.pub`).
    /// Returns the new key and the previous key's id, if there was one.
    @discardableResult
    public func rotate() throws(IdentityError) -> (key: IssuerPublicKey, previous: String?) {
        let dir = try KeyDirectory(path: directory, create: true)
        var previous: String?
        if let pointer = try dir.read(Self.currentName, secret: true, limit: 128) {
            previous = try Self.keyID(pointer, path: directory + "/" + Self.currentName)
        }
        let key = IssuerSigningKey.generate()
        try write(key, in: dir)
        let kid = key.publicKey.keyID
        _ = try dir.publish(Self.currentName, bytes: Array((kid + "\n").utf8), mode: 0o600, replace: true)
        if let previous, previous != kid { try dir.remove(previous + ".key") }
        return (key.publicKey, previous)
    }

    private func write(_ key: IssuerSigningKey, in dir: borrowing KeyDirectory) throws(IdentityError) {
        let kid = key.publicKey.keyID
        let pub = "\(Self.publicHeader) \(Base64URL.encode(key.publicKey.x963))\n"
        let priv = "\(Self.privateHeader) \(Base64URL.encode(key.raw))\n"
        try dir.createNew(kid + ".pub", bytes: Array(pub.utf8), mode: 0o644)
        do { try dir.createNew(kid + ".key", bytes: Array(priv.utf8), mode: 0o600) } catch {
            try? dir.remove(kid + ".pub")
            throw error
        }
    }

    // MARK: - File formats

    static func keyID(_ bytes: [UInt8], path: String) throws(IdentityError) -> String {
        var text = Substring(String(decoding: bytes, as: UTF8.self))
        if text.hasSuffix("\n") { text = text.dropLast() }
        guard text.utf8.count == 43, Base64URL.decode(text)?.count == 32 else {
            throw .keyFile(path: path, reason: "expected one key id (43 base64url characters)")
        }
        return String(text)
    }

    static func payload(_ bytes: [UInt8], header: String, path: String) throws(IdentityError) -> [UInt8] {
        var text = Substring(String(decoding: bytes, as: UTF8.self))
        if text.hasSuffix("\n") { text = text.dropLast() }
        guard !text.contains("\n") else { throw .keyFile(path: path, reason: "expected exactly one line") }
        guard text.hasPrefix(header + " ") else { throw .keyFile(path: path, reason: "expected a line starting with \"\(header)\"") }
        guard let raw = Base64URL.decode(text.dropFirst(header.count + 1)) else { throw .keyFile(path: path, reason: "invalid base64url") }
        return raw
    }
}
