/// The parts of a `warden` container's log (see `KubernetesRunObjects.runScript`): the run's
/// audit log between `warden-audit-begin NONCE` and `warden-audit-end NONCE exit=STATUS`,
/// then the run's output after `warden-output-begin NONCE`.
///
/// Nothing of the agent's reaches the log before the end marker: its output goes to a file
/// that is printed only after the audit log, so the first begin marker and the first end
/// marker after it are the script's own.
public struct PodLog: Sendable, Equatable {
    /// The audit log's bytes as the pod printed them.
    public var chain: [UInt8]
    /// `warden run`'s exit status as the script saw it.
    public var exitStatus: Int32?
    /// The run's output (at most the first MiB the script printed).
    public var output: [UInt8]

    /// Why a log holds no audit log.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case noBeginMarker
        case noEndMarker

        public var description: String {
            switch self {
            case .noBeginMarker: return "the pod's log has no audit log (no begin marker: the run did not get as far as printing it)"
            case .noEndMarker: return "the pod's log ends inside the audit log (no end marker: cut off, or the log was rotated)"
            }
        }
    }

    public static func parse(_ log: [UInt8], nonce: String) throws(Failure) -> PodLog {
        let begin = Array("warden-audit-begin \(nonce)\n".utf8)
        let end = Array("warden-audit-end \(nonce) exit=".utf8)
        let outputBegin = Array("warden-output-begin \(nonce)\n".utf8)
        guard let b = find(begin, in: log, from: 0, lineStart: true) else { throw .noBeginMarker }
        let chainStart = b + begin.count
        // The end marker may follow a torn last line of the audit log (then not at a line start).
        guard let e = find(end, in: log, from: chainStart, lineStart: false) else { throw .noEndMarker }
        var i = e + end.count
        var digits: [UInt8] = []
        while i < log.count, log[i] != 0x0A, digits.count < 4 { digits.append(log[i]); i += 1 }
        let status = digits.isEmpty || !digits.allSatisfy({ (0x30...0x39).contains($0) }) ? nil : Int32(String(decoding: digits, as: UTF8.self))
        var output: [UInt8] = []
        if let o = find(outputBegin, in: log, from: i, lineStart: true) { output = Array(log[(o + outputBegin.count)...]) }
        return PodLog(chain: Array(log[chainStart..<e]), exitStatus: status, output: output)
    }

    /// The first index of `needle` in `hay` at or after `from` (at the start of a line when
    /// `lineStart`).
    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int, lineStart: Bool) -> Int? {
        guard let first = needle.first, hay.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == first, !lineStart || i == 0 || hay[i - 1] == 0x0A, hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
