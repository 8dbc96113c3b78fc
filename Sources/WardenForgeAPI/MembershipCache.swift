import Synchronization

/// Membership answers kept for a bounded time and in bounded number: a member for
/// `memberSeconds`, a non-member for `nonMemberSeconds` (errors are never kept). When full,
/// expired answers go first, then the ones that expire soonest.
final class MembershipCache: Sendable {
    struct Key: Hashable, Sendable {
        var team: String
        var login: String
    }

    private struct Entry: Sendable {
        var member: Bool
        var expires: Int64
    }

    let memberMilliseconds: Int64
    let nonMemberMilliseconds: Int64
    let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    init(memberSeconds: Int64, nonMemberSeconds: Int64, capacity: Int) {
        memberMilliseconds = memberSeconds * 1000
        nonMemberMilliseconds = nonMemberSeconds * 1000
        self.capacity = max(1, capacity)
    }

    /// The answer kept for `key` at `now` (ms), if it has not expired.
    func answer(_ key: Key, now: Int64) -> Bool? {
        entries.withLock { e in
            guard let entry = e[key] else { return nil }
            guard entry.expires > now else { e[key] = nil; return nil }
            return entry.member
        }
    }

    func store(_ key: Key, member: Bool, now: Int64) {
        let ttl = member ? memberMilliseconds : nonMemberMilliseconds
        guard ttl > 0 else { return }
        entries.withLock { e in
            if e[key] == nil, e.count >= capacity {
                e = e.filter { $0.value.expires > now }
                while e.count >= capacity, let soonest = e.min(by: { $0.value.expires < $1.value.expires }) {
                    e[soonest.key] = nil
                }
            }
            e[key] = Entry(member: member, expires: now + ttl)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
