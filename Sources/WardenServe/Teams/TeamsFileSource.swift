import Synchronization
import WardenKernel
import WardenPolicy

/// Team membership from the operator's teams file (`--teams FILE`, `TeamsFile`). The file
/// is checked (`OperatorFile`) and parsed at start, where any problem stops the server; at
/// decision time its stamp (inode, size, modification and change times) is compared with the
/// one in force, and a changed file is read again. A broken edit (bad line, wrong owner or
/// mode, gone) leaves the last good version in force and is reported once per edit through
/// `notify`, as is a good one that replaces it.
public final class TeamsFileSource: TeamMembershipSource {
    public let path: String
    /// The forges whose teams the file may hold (GitHub's come from the API when a token is given).
    public let forges: Set<TriggerSourceKind>
    public var name: String { "file" }
    private let notify: @Sendable (TeamsFileChange) -> Void
    private struct State {
        var file: TeamsFile
        var stamp: OperatorFile.Stamp
        /// The stamp of the last version refused (reported once).
        var refused: OperatorFile.Stamp?
        var refusedMissing = false
    }
    private let state: Mutex<State>

    /// Reads the file; throws with the reason (a line number for a bad line).
    public init(path: String, forges: Set<TriggerSourceKind> = [.github, .gitlab],
                notify: @escaping @Sendable (TeamsFileChange) -> Void = { _ in }) throws(OperatorFileError) {
        self.path = path
        self.forges = forges
        self.notify = notify
        let (file, stamp) = try Self.load(path, forges: forges)
        state = Mutex(State(file: file, stamp: stamp))
    }

    var what: String { "--teams \(TerminalText.escape(path))" }

    static func load(_ path: String, forges: Set<TriggerSourceKind>) throws(OperatorFileError) -> (TeamsFile, OperatorFile.Stamp) {
        let what = "--teams \(TerminalText.escape(path))"
        let (bytes, stamp) = try OperatorFile.read(path, what: what, limit: TeamsFile.maxBytes, secret: false)
        let file: TeamsFile
        do { file = try TeamsFile.parse(bytes) } catch { throw OperatorFileError(what, error.description) }
        for (forge, line) in file.firstLine.sorted(by: { $0.value < $1.value }) where !forges.contains(forge) {
            throw OperatorFileError(what, "line \(line): \(forge.rawValue) teams come from the GitHub API here (--github-token-file); "
                                    + "remove the file's \(forge.rawValue) lines or the option")
        }
        return (file, stamp)
    }

    /// The version in force, after reading the file again if it changed (under the lock, so
    /// one edit is read and reported once).
    public func current() -> TeamsFile {
        let (file, change) = state.withLock { s -> (TeamsFile, TeamsFileChange?) in
            let now = OperatorFile.stamp(path)
            if let now, now == s.stamp || now == s.refused { return (s.file, nil) }
            if now == nil, s.refusedMissing { return (s.file, nil) }
            do throws(OperatorFileError) {
                let (fresh, stamp) = try Self.load(path, forges: forges)
                s.file = fresh
                s.stamp = stamp
                s.refused = nil
                s.refusedMissing = false
                return (fresh, TeamsFileChange(path: path, loaded: true, reason: "read again after an edit"))
            } catch {
                s.refused = now
                s.refusedMissing = now == nil
                return (s.file, TeamsFileChange(path: path, loaded: false, reason: error.reason))
            }
        }
        if let change { notify(change) }
        return file
    }

    public func check(login: String, forge: TriggerSourceKind, team pattern: TriggerGlob, deadline: Int64) -> TeamAnswer {
        guard forges.contains(forge) else { return .failed("the teams file does not answer for \(forge.rawValue)") }
        let teams = current().teams(of: login, forge: forge, matching: pattern)
        return teams.isEmpty ? .notMember(cached: false) : .member(teams: teams, cached: false)
    }
}

/// The teams file changed: `loaded` a new version in force, or not (`reason`; the previous
/// version stays in force).
public struct TeamsFileChange: Sendable, Equatable {
    public var path: String
    public var loaded: Bool
    public var reason: String
}
