/// The clone URL a payload names, accepted only in the one shape a forge uses for HTTPS
/// clones: `https://HOST[:PORT]/REPOSITORY[.git]`, where REPOSITORY is the delivery's
/// repository (`owner/name`, GitLab's full path; ASCII case aside); GitLab, which may be
/// served below a path (`https://host/gitlab/grp/app.git`), also `/PREFIX/REPOSITORY[.git]`. No
/// credentials, query, fragment, percent-encoding, `.`/`..` segments, IP-literal brackets,
/// other schemes (`http`, `ssh`, `git@`, `file`, `ext::`), or characters git or a shell
/// could read as anything else.
enum WebhookCloneURL {
    static let maxBytes = 2048

    /// `url` when acceptable for `repository`, else the reason it is not (safe to log: the
    /// URL itself is never quoted, as it may carry credentials).
    static func check(_ url: String, repository: String, allowPrefix: Bool) -> Result<String, WebhookRejection> {
        func no(_ why: String) -> Result<String, WebhookRejection> {
            .failure(.unprocessable("the clone URL \(why)"))
        }
        let b = Array(url.utf8)
        guard b.count <= maxBytes else { return no("is longer than \(maxBytes) bytes") }
        let scheme = Array("https://".utf8)
        guard b.starts(with: scheme) else { return no("is not an https:// URL") }
        let rest = b[scheme.count...]
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return no("has no path") }
        let authority = rest[..<slash], path = b[slash...]
        if authority.contains(UInt8(ascii: "@")) { return no("carries credentials") }
        if b.contains(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { return no("has a query or fragment") }
        if b.contains(UInt8(ascii: "%")) { return no("is percent-encoded") }

        // HOST[:PORT]: DNS labels of letters, digits and hyphens.
        let hostPort = authority.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard (1...2).contains(hostPort.count), let host = hostPort.first, isHost(host) else { return no("has an invalid host") }
        if hostPort.count == 2 {
            let port = hostPort[1]
            guard (1...5).contains(port.count), port.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = Int(String(decoding: port, as: UTF8.self)), (1...65535).contains(n) else { return no("has an invalid port") }
        }

        let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard segments.allSatisfy({ s in
            !s.isEmpty && !s.elementsEqual(".".utf8) && !s.elementsEqual("..".utf8)
                && s.allSatisfy { WebhookValues.isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
        }) else { return no("has an invalid path") }

        var tail = Array(path)
        if tail.count > 4, tail.suffix(4).elementsEqual(".git".utf8) { tail.removeLast(4) }
        let expected = Array(("/" + repository).utf8)
        guard tail.count == expected.count || (allowPrefix && tail.count > expected.count),
              zip(tail.suffix(expected.count), expected).allSatisfy({ WebhookRequest.lower($0) == WebhookRequest.lower($1) }) else {
            return no("does not name repository \(WebhookText.quote(repository))")
        }
        return .success(url)
    }

    /// Dot-separated labels of `A-Z a-z 0-9 -`, each 1-63 bytes, not starting or ending with `-`.
    static func isHost(_ host: ArraySlice<UInt8>) -> Bool {
        guard (1...253).contains(host.count) else { return false }
        return host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.first != 0x2D && label.last != 0x2D
                && label.allSatisfy { WebhookValues.isAlnum($0) || $0 == 0x2D }
        }
    }
}
