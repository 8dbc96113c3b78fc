import Foundation
import Synchronization
import Testing
import WardenPolicy
@testable import WardenServe

/// The operator's teams file: its format (good lines, bad lines with their numbers), the
/// file's owner and mode rules, and re-reading it after an edit (a broken edit keeps the
/// last good version in force and is reported once).
@Suite("teams file") struct TeamsFileTests {
    static func glob(_ s: String) -> TriggerGlob { try! TriggerGlob.parse(s, caseInsensitive: true).get() }

    @Test func goodLinesCommentsAndRepeatedTeams() throws {
        let text = """
        # forge team members
        github  acme/engineers  alice Bob\t carol   # the app team
        github\tacme/engineers dave
        \r
        gitlab  acme/platform/sre  Erin\r
        gitlab  solo
        github  acme/empty
        """
        let file = try TeamsFile.parse(Array(text.utf8))
        #expect(file.teams[.github]?["acme/engineers"] == ["alice", "bob", "carol", "dave"])
        #expect(file.teams[.github]?["acme/empty"] == [])
        #expect(file.teams[.gitlab]?["acme/platform/sre"] == ["erin"])
        #expect(file.teams[.gitlab]?["solo"] == [])
        #expect(file.firstLine[.github] == 2 && file.firstLine[.gitlab] == 5)
        // Logins and teams compare without regard to case; patterns match the file's teams.
        #expect(file.teams(of: "BOB", forge: .github, matching: Self.glob("Acme/Engineers")) == ["acme/engineers"])
        #expect(file.teams(of: "bob", forge: .github, matching: Self.glob("acme/*")) == ["acme/engineers"])
        #expect(file.teams(of: "erin", forge: .gitlab, matching: Self.glob("acme/**")) == ["acme/platform/sre"])
        #expect(file.teams(of: "erin", forge: .github, matching: Self.glob("acme/**")) == [], "forges are apart")
        #expect(file.teams(of: "mallory", forge: .github, matching: Self.glob("acme/*")) == [])
        #expect(file.teams(of: "alice", forge: .github, matching: Self.glob("acme/empty")) == [])
        #expect(try TeamsFile.parse([]) == TeamsFile())
    }

    @Test func badLinesAreRefusedWithTheirNumber() {
        let cases: [(String, Int, String)] = [
            ("github acme/eng alice\nbitbucket acme/eng bob", 2, "not a forge"),
            ("\n\ngithub", 3, "names no team"),
            ("github acme alice", 1, "is not `ORG/SLUG`"),
            ("github acme/eng/sub alice", 1, "is not `ORG/SLUG`"),
            ("github acme/ alice", 1, "empty part"),
            ("gitlab a//b alice", 1, "empty part"),
            ("github acme/* alice", 1, "not patterns"),
            ("github acme/eng al?ce", 1, "not patterns"),
            ("github acme/eng al%ce", 1, "outside A-Z"),
            ("github acme/eng alic\u{E9}", 1, "not allowed"),
            ("github acme/eng ali\u{7}ce", 1, "not allowed"),
            ("github acme/eng " + String(repeating: "a", count: 101), 1, "longer than 100"),
            ("gitlab " + Array(repeating: "g", count: 130).joined(separator: "/") + " x", 1, "longer than 256"),
        ]
        for (text, line, reason) in cases {
            do {
                _ = try TeamsFile.parse(Array(text.utf8))
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.line == line && error.description.contains(reason), "\(text): \(error)")
                #expect(error.description.hasPrefix("line \(line): "))
            }
        }
    }

    /// A directory of the test's own, removed at the end.
    final class Dir {
        let path: String
        init() throws {
            path = NSTemporaryDirectory() + "warden-teams-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws -> String {
            let p = path + "/" + name
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            chmod(p, mode)
            return p
        }
    }

    @Test func theFilesOwnerAndModeAreChecked() throws {
        let dir = try Dir()
        let good = try dir.write("teams", "github acme/eng alice\n")
        #expect(throws: Never.self) { try TeamsFileSource(path: good) }
        let groupWritable = try dir.write("gw", "github acme/eng alice\n", mode: 0o664)
        #expect { try TeamsFileSource(path: groupWritable) } throws: { "\($0)".contains("lets other users write it") }
        let link = dir.path + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: good)
        #expect { try TeamsFileSource(path: link) } throws: { "\($0)".contains("symbolic link") }
        #expect { try TeamsFileSource(path: dir.path) } throws: { "\($0)".contains("directory") }
        #expect { try TeamsFileSource(path: dir.path + "/missing") } throws: { "\($0)".contains("No such file") }
        let big = try dir.write("big", String(repeating: "# padding\n", count: TeamsFile.maxBytes / 10 + 1))
        #expect { try TeamsFileSource(path: big) } throws: { "\($0)".contains("larger than 1 MiB") }
        let bad = try dir.write("bad", "github acme/eng alice\ngithub acme alice\n")
        #expect { try TeamsFileSource(path: bad) } throws: { "\($0)".contains("line 2:") && "\($0)".contains("--teams") }
        if geteuid() == 0 {
            let foreign = try dir.write("foreign", "github acme/eng alice\n")
            chown(foreign, 4242, 4242)
            #expect { try TeamsFileSource(path: foreign) } throws: { "\($0)".contains("belongs to uid 4242") }
        }
        // With the GitHub API as GitHub's source, github lines are an error (one source per forge).
        #expect { try TeamsFileSource(path: good, forges: [.gitlab]) } throws: { "\($0)".contains("line 1: github teams come from the GitHub API") }
        // A secret (the token file) must not even be readable by others.
        let token = try dir.write("token", "ghp_x\n", mode: 0o640)
        #expect { try OperatorFile.read(token, what: "t", limit: 100, secret: true) } throws: { "\($0)".contains("chmod 600") }
        chmod(token, 0o600)
        #expect(try OperatorFile.read(token, what: "t", limit: 100, secret: true).bytes == Array("ghp_x\n".utf8))
    }

    @Test func anEditIsReadAgainAndABrokenOneKeepsTheLastGood() throws {
        let dir = try Dir()
        let path = try dir.write("teams", "github acme/eng alice\n")
        let changes = Mutex<[TeamsFileChange]>([])
        let source = try TeamsFileSource(path: path) { c in changes.withLock { $0.append(c) } }
        let eng = Self.glob("acme/eng")
        #expect(source.check(login: "alice", forge: .github, team: eng, deadline: .max) == .member(teams: ["acme/eng"], cached: false))
        #expect(source.check(login: "bob", forge: .github, team: eng, deadline: .max) == .notMember(cached: false))
        #expect(changes.withLock { $0 }.isEmpty, "no change, no report")

        // A good edit (a new inode, as editors and configuration managers write): in force at once.
        _ = try dir.write("teams", "github acme/eng bob\n")
        #expect(source.check(login: "bob", forge: .github, team: eng, deadline: .max) == .member(teams: ["acme/eng"], cached: false))
        #expect(source.check(login: "alice", forge: .github, team: eng, deadline: .max) == .notMember(cached: false))
        #expect(changes.withLock { $0 }.map(\.loaded) == [true])

        // A broken edit: bob stays a member, the refusal is reported once with the line.
        _ = try dir.write("teams", "github acme/eng carol\ngithub acme/* dave\n")
        for _ in 0..<3 {
            #expect(source.check(login: "bob", forge: .github, team: eng, deadline: .max) == .member(teams: ["acme/eng"], cached: false))
            #expect(source.check(login: "carol", forge: .github, team: eng, deadline: .max) == .notMember(cached: false))
        }
        var seen = changes.withLock { $0 }
        #expect(seen.map(\.loaded) == [true, false], "\(seen)")
        #expect(seen.last?.reason.contains("line 2:") == true, "\(seen)")

        // Made group-writable in place (a chmod is a change of ctime): refused, the last good stays.
        _ = try dir.write("teams", "github acme/eng carol\n")
        #expect(source.check(login: "carol", forge: .github, team: eng, deadline: .max) == .member(teams: ["acme/eng"], cached: false))
        chmod(path, 0o666)
        #expect(source.check(login: "carol", forge: .github, team: eng, deadline: .max) == .member(teams: ["acme/eng"], cached: false))
        seen = changes.withLock { $0 }
        #expect(seen.map(\.loaded) == [true, false, true, false], "\(seen)")
        #expect(seen.last?.reason.contains("write it") == true, "\(seen)")

        // Removed: the last good stays, reported once.
        unlink(path)
        #expect(source.check(login: "carol", forge: .github, team: eng, deadline: .max) == .member(teams: ["acme/eng"], cached: false))
        #expect(source.check(login: "carol", forge: .github, team: eng, deadline: .max) == .member(teams: ["acme/eng"], cached: false))
        #expect(changes.withLock { $0 }.map(\.loaded) == [true, false, true, false, false])
    }
}
