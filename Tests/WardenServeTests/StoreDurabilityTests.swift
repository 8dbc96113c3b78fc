import Foundation
import Synchronization
import Testing
@testable import WardenServe

/// A restart loses nothing: what was committed is there after reopening, in the same order
/// and state; runs that were going become `interrupted`; uncommitted writes of a process
/// killed mid-transaction are gone and the store still works.
@Suite struct StoreDurabilityTests {
    @Test func enqueuedRunSurvivesReopen() throws {
        let dir = StoreTempDir()
        let queued: QueuedRun
        do {
            let store = try ServeStore(path: dir.file())
            queued = try store.enqueue(sampleRun(1))
            store.close()
            #expect(throws: ServeStoreError.closed) { try store.run(queued.id) }
        }
        let reopened = try ServeStore(path: dir.file())
        let found = try #require(try reopened.run(queued.id))
        #expect(found == queued)
        #expect(found.state == .queued)
        #expect(found.eventDocument == Array("{\"n\":1}".utf8))
        // The file and its side files are the owner's alone.
        var st = stat()
        #expect(stat(dir.file(), &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(stat(dir.file() + "-wal", &st) == 0)
        #expect(st.st_mode & 0o077 == 0)
    }

    @Test func stateTransitionsPersist() throws {
        let dir = StoreTempDir()
        var ids: [Int64] = []
        do {
            let store = try ServeStore(path: dir.file())
            for n in 0..<4 { ids.append(try store.enqueue(sampleRun(n)).id) }
            let limits = ConcurrencyLimits(host: 10)
            let a = try #require(try store.claim(limits: limits, now: 2_000))
            let b = try #require(try store.claim(limits: limits, now: 2_100))
            let c = try #require(try store.claim(limits: limits, now: 2_200))
            #expect([a.id, b.id, c.id] == Array(ids.prefix(3)))
            try store.setRunID(a.id, runID: "r-a", workspace: "/var/lib/warden/ws/a")
            try store.finish(a.id, state: .finished, exitCode: 0, error: nil, now: 3_000)
            try store.finish(b.id, state: .failed, exitCode: 3, error: "exit status 3", now: 3_100)
            _ = c
        }
        let store = try ServeStore(path: dir.file())
        let a = try #require(try store.run(ids[0]))
        #expect(a.state == .finished && a.exitCode == 0 && a.runID == "r-a" && a.workspace == "/var/lib/warden/ws/a")
        #expect(a.startedAt == 2_000 && a.finishedAt == 3_000)
        let b = try #require(try store.run(ids[1]))
        #expect(b.state == .failed && b.exitCode == 3 && b.error == "exit status 3" && b.finishedAt == 3_100)
        #expect(try store.run(ids[2])?.state == .running)
        #expect(try store.run(ids[3])?.state == .queued)
        #expect(try store.counts() == [.queued: 1, .running: 1, .finished: 1, .failed: 1, .interrupted: 0, .cancelled: 0])
    }

    @Test func runningRowsBecomeInterruptedAfterRestart() throws {
        let dir = StoreTempDir()
        let running: QueuedRun
        do {
            let store = try ServeStore(path: dir.file())
            _ = try store.enqueue(sampleRun(1))
            _ = try store.enqueue(sampleRun(2))
            running = try #require(try store.claim(limits: ConcurrencyLimits(host: 4), now: 5_000))
            try store.setRunID(running.id, runID: "r-1", workspace: nil)
            // The server dies here: no finish.
        }
        let store = try ServeStore(path: dir.file())
        let recovered = try store.recoverInterrupted(now: 9_000)
        #expect(recovered.count == 1)
        let r = try #require(recovered.first)
        #expect(r.id == running.id && r.state == .interrupted && r.finishedAt == 9_000 && r.runID == "r-1" && r.startedAt == 5_000)
        #expect(r.error?.isEmpty == false)
        #expect(try store.run(running.id)?.state == .interrupted)
        // Recovery is idempotent; the queued run is still there to claim.
        #expect(try store.recoverInterrupted(now: 9_500).isEmpty)
        #expect(try store.claim(limits: ConcurrencyLimits(host: 4), now: 9_600)?.eventDocument == Array("{\"n\":2}".utf8))
        // An interrupted run cannot be finished later.
        #expect(throws: ServeStoreError.invalidTransition(id: running.id, from: .interrupted, to: .finished)) {
            try store.finish(running.id, state: .finished, exitCode: 0, error: nil, now: 9_700)
        }
    }

    @Test func queuedRunsResumeInFIFOOrder() throws {
        let dir = StoreTempDir()
        var ids: [Int64] = []
        do {
            let store = try ServeStore(path: dir.file())
            // Enqueue times deliberately out of order: the queue follows enqueue order (ids).
            for n in 0..<20 { ids.append(try store.enqueue(sampleRun(n, at: Int64(1_000_000 - n * 10))).id) }
        }
        let store = try ServeStore(path: dir.file())
        let page = try store.queued(limit: 100)
        #expect(page.map(\.id) == Array(ids.prefix(StoreBounds.maxEventPage)))
        #expect(try store.queued(limit: 100, after: page.last?.id).map(\.id) == Array(ids.dropFirst(StoreBounds.maxEventPage)))
        var claimed: [Int64] = []
        while let run = try store.claim(limits: ConcurrencyLimits(host: 100), now: 2_000_000) { claimed.append(run.id) }
        #expect(claimed == ids)
        #expect(ids == ids.sorted())
    }

    /// A process killed with a transaction open (the sqlite3 tool, SIGKILL while its insert of
    /// 20 MB has spilled uncommitted pages into the WAL) leaves a file that opens, holds only
    /// committed rows, and keeps working.
    @Test func processKilledMidTransactionLeavesOnlyCommittedRows() throws {
        guard let sqlite3 = findTool("sqlite3") else { return }  // covered tool-free by the next test
        let dir = StoreTempDir()
        let committed: QueuedRun
        do {
            let store = try ServeStore(path: dir.file())
            committed = try store.enqueue(sampleRun(1))
        }
        let walBefore = fileSize(dir.file() + "-wal") ?? 0
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sqlite3)
        process.arguments = [dir.file()]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let script = """
            PRAGMA cache_size = 10;
            BEGIN IMMEDIATE;
            INSERT INTO runs (trigger_name, identity, source, decision, event, state, enqueued_at)
              WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200)
              SELECT 'ghost', 'ghost', 'manual', 'd', randomblob(100000), 'queued', 1 FROM c;
            .print spilled

            """
        input.fileHandleForWriting.write(Data(script.utf8))
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("spilled") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        #expect(String(decoding: seen, as: UTF8.self).contains("spilled"))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // The uncommitted pages really reached the WAL file before the kill.
        #expect((fileSize(dir.file() + "-wal") ?? 0) > walBefore + 1_000_000)

        let store = try ServeStore(path: dir.file())
        #expect(try store.runs(limit: 100, includeEvents: true) == [committed])
        #expect(try store.counts()[.queued] == 1)
        let next = try store.enqueue(sampleRun(2))
        #expect(next.id > committed.id)
        #expect(try store.claim(limits: ConcurrencyLimits(host: 2), now: 5)?.id == committed.id)
    }

    /// The same without the sqlite3 tool: the files are copied while a second connection holds
    /// an uncommitted transaction whose pages spilled into the WAL (what a crash at that
    /// moment leaves on disk), and the copy is opened.
    @Test func crashImageWithUncommittedWALFramesOpens() throws {
        let dir = StoreTempDir()
        let crash = StoreTempDir()
        let committed: QueuedRun
        do {
            let store = try ServeStore(path: dir.file())
            committed = try store.enqueue(sampleRun(1))
            store.close()
        }
        let other = RawSQLite(dir.file())
        #expect(other.exec("PRAGMA cache_size = 10") == 0)
        #expect(other.exec("BEGIN IMMEDIATE") == 0)
        #expect(other.exec("""
            INSERT INTO runs (trigger_name, identity, source, decision, event, state, enqueued_at)
              WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100)
              SELECT 'ghost', 'ghost', 'manual', 'd', randomblob(100000), 'queued', 1 FROM c
            """) == 0)
        #expect((fileSize(dir.file() + "-wal") ?? 0) > 1_000_000)
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: dir.file() + suffix, toPath: crash.file() + suffix)
            #expect(chmod(crash.file() + suffix, 0o600) == 0)
        }
        other.exec("ROLLBACK")

        let store = try ServeStore(path: crash.file())
        #expect(try store.runs(limit: 100, includeEvents: true) == [committed])
        let next = try store.enqueue(sampleRun(2))
        #expect(next.id > committed.id)
        #expect(try store.counts()[.queued] == 2)
    }

    /// Two stores on one file (as two processes would be) see each other's commits at once.
    @Test func secondConnectionSeesCommitsImmediately() throws {
        let dir = StoreTempDir()
        let a = try ServeStore(path: dir.file())
        let b = try ServeStore(path: dir.file())
        let run = try a.enqueue(sampleRun(7))
        #expect(try b.run(run.id) == run)
        let claimed = try #require(try b.claim(limits: ConcurrencyLimits(host: 1), now: 10))
        #expect(claimed.id == run.id)
        #expect(try a.claim(limits: ConcurrencyLimits(host: 1), now: 11) == nil)
        #expect(try a.run(run.id)?.state == .running)
    }

    /// Eight threads create the same new store at once (as racing starts would): all open,
    /// the schema is made once, and every connection works.
    @Test func concurrentCreationOfOneStore() throws {
        for _ in 0..<5 {
            let dir = StoreTempDir()
            let path = dir.file()
            let stores = Mutex<[ServeStore]>([]), errors = Mutex<[String]>([])
            onThreads(8) { _ in
                do {
                    let store = try ServeStore(path: path)
                    stores.withLock { $0.append(store) }
                } catch {
                    errors.withLock { $0.append("\(error)") }
                }
            }
            #expect(errors.withLock { $0 } == [])
            let all = stores.withLock { $0 }
            #expect(all.count == 8)
            for (n, store) in all.enumerated() { _ = try store.enqueue(sampleRun(n)) }
            #expect(try all.first?.counts()[.queued] == 8)
        }
    }

    /// One server per store: a second one's recovery is refused while the first holds the
    /// serving lock (it would take the first one's running runs for dead ones), and allowed
    /// once the first closes.
    @Test func secondServerCannotRecoverALiveServersRuns() throws {
        let dir = StoreTempDir()
        let first = try ServeStore(path: dir.file())
        let second = try ServeStore(path: dir.file())
        _ = try first.enqueue(sampleRun(1))
        let going = try #require(try first.claim(limits: ConcurrencyLimits(host: 1), now: 1))
        #expect(try first.recoverInterrupted(now: 2).map(\.id) == [going.id])
        let other = try second.enqueue(sampleRun(2))
        _ = try #require(try first.claim(limits: ConcurrencyLimits(host: 1), now: 3))
        #expect(throws: ServeStoreError.inUse(path: dir.file(), pid: getpid())) { try second.recoverInterrupted(now: 4) }
        #expect(try second.run(other.id)?.state == .running)
        #expect("\(ServeStoreError.inUse(path: dir.file(), pid: 42))".contains("pid 42"))
        var st = stat()
        #expect(lstat(dir.file() + ".lock", &st) == 0 && st.st_mode & 0o777 == 0o600)
        first.close()
        #expect(try second.recoverInterrupted(now: 5).map(\.id) == [other.id])
        // Taking it again is a no-op for the holder.
        try second.acquireServingLock()
    }

    /// The lock dies with its holder: a shell holding it (flock on fd 9, then exec sleep, so
    /// one process with a known pid holds it) blocks recovery until it is killed.
    @Test func servingLockIsReleasedWhenTheHolderDies() throws {
        guard let sh = findTool("sh"), findTool("flock") != nil, findTool("sleep") != nil else { return }
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: sh)
        holder.arguments = ["-c", "exec 9>>\"$1\" && flock -n 9 && echo locked && exec sleep 30", "sh", dir.file() + ".lock"]
        let output = Pipe()
        holder.standardOutput = output
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        let line = output.fileHandleForReading.availableData
        #expect(String(decoding: line, as: UTF8.self) == "locked\n")
        #expect(throws: ServeStoreError.inUse(path: dir.file(), pid: nil)) { try store.recoverInterrupted(now: 1) }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(try store.recoverInterrupted(now: 2).isEmpty)
    }

    /// The workers' children (`warden run`) must not inherit the store's descriptors: a
    /// child outliving a crashed server would otherwise keep the serving lock.
    @Test func storeDescriptorsAreCloseOnExec() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        _ = try store.recoverInterrupted(now: 1)
        _ = try store.enqueue(sampleRun(1))
        var found: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            guard let fd = Int32(name),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
                  target.hasPrefix(dir.path + "/") else { continue }
            let flags = fcntl(fd, F_GETFD)
            #expect(flags >= 0 && flags & FD_CLOEXEC != 0, "\(target) is inherited by children")
            found.insert(String(target.dropFirst(dir.path.count + 1)))
        }
        #expect(found.isSuperset(of: ["serve.db", "serve.db.lock", "serve.db-wal"]), "\(found)")
    }

    @Test func linkedLockFileIsRefused() throws {
        let dir = StoreTempDir()
        let store = try ServeStore(path: dir.file())
        #expect(symlink(dir.file("elsewhere"), dir.file() + ".lock") == 0)
        #expect(throws: ServeStoreError.self) { try store.recoverInterrupted(now: 1) }
        #expect(fileSize(dir.file("elsewhere")) == nil)
    }

    /// Closing while other threads use the store: every call either completes or throws
    /// `.closed`; nothing crashes and what completed is on disk.
    @Test func closeRacesWithUse() throws {
        for round in 0..<10 {
            let dir = StoreTempDir()
            let store = try ServeStore(path: dir.file())
            let done = Atomic<Int>(0), unexpected = Mutex<[String]>([])
            onThreads(6) { i in
                if i == 0 {
                    usleep(UInt32(round * 200))
                    store.close()
                    return
                }
                for n in 0..<50 {
                    do {
                        _ = try store.enqueue(sampleRun(i * 100 + n))
                        done.wrappingAdd(1, ordering: .relaxed)
                    } catch ServeStoreError.closed {
                        return
                    } catch {
                        unexpected.withLock { $0.append("\(error)") }
                        return
                    }
                }
            }
            #expect(unexpected.withLock { $0 } == [])
            #expect(throws: ServeStoreError.closed) { try store.counts() }
            let reopened = try ServeStore(path: dir.file())
            #expect(try reopened.counts()[.queued] == done.load(ordering: .relaxed))
        }
    }
}
