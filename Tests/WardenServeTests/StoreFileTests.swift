import CSQLite
import Foundation
import Testing
@testable import WardenServe

/// The store opens only a file it can trust, and says what to do about anything else: no
/// crash, no following of links, no writing into another program's database.
@Suite struct StoreFileTests {
    /// Runs `open` and returns the typed error it throws (nil when it opened).
    func openError(_ path: String) -> ServeStoreError? {
        do {
            _ = try ServeStore(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func newStoreIsDurableAndPrivate() throws {
        let dir = StoreTempDir()
        let path = dir.path + "/state/deeper/serve.db"
        let store = try ServeStore(path: path)
        let settings = try store.connectionSettings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2)  // FULL
        #expect(settings.foreignKeys == 1)
        #expect(settings.trustedSchema == 0)
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(dir.path + "/state", &st) == 0 && st.st_mode & 0o777 == 0o700)
        let raw = RawSQLite(path)
        #expect(raw.integer("PRAGMA application_id") == StoreSchema.applicationID)
        #expect(raw.integer("PRAGMA user_version") == Int64(StoreSchema.version))
    }

    /// A relative path is resolved against the current directory, so "file:..." is never
    /// read as an SQLite URI.
    @Test func relativePathIsMadeAbsolute() throws {
        #expect(try StoreFile.makeAbsolute("file:serve.db", currentDirectory: "/srv/warden") == "/srv/warden/file:serve.db")
        #expect(try StoreFile.makeAbsolute("a/b.db", currentDirectory: "/") == "/a/b.db")
        #expect(try StoreFile.makeAbsolute("/abs/b.db", currentDirectory: "/srv") == "/abs/b.db")
        #expect(try StoreFile.makeAbsolute("x.db").hasPrefix("/"))
        #expect(StoreFile.parent(of: "/a/b/c.db") == "/a/b")
        #expect(StoreFile.parent(of: "/c.db") == "/")
        #expect(StoreFile.parent(of: "/a/b/") == "/a")
    }

    @Test func symbolicLinkIsRefused() throws {
        let dir = StoreTempDir()
        _ = try ServeStore(path: dir.file("real.db"))
        #expect(symlink(dir.file("real.db"), dir.file("link.db")) == 0)
        let error = try #require(openError(dir.file("link.db")))
        guard case .unsafeFile(_, let reason) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("symbolic link"))
        // A dangling link is refused too (never created through).
        #expect(symlink(dir.file("elsewhere.db"), dir.file("dangling.db")) == 0)
        #expect(openError(dir.file("dangling.db")).map { if case .unsafeFile = $0 { true } else { false } } == true)
        #expect(fileSize(dir.file("elsewhere.db")) == nil)
    }

    @Test func linkedDirectoryIsRefusedWithTheRealPath() throws {
        let dir = StoreTempDir()
        #expect(mkdir(dir.file("real"), 0o700) == 0)
        #expect(symlink(dir.file("real"), dir.file("link")) == 0)
        let error = try #require(openError(dir.file("link") + "/serve.db"))
        guard case .unsafeFile(_, let reason) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains(dir.file("link") + " is a symbolic link"))
        #expect(reason.contains(dir.file("real")))
        #expect(fileSize(dir.file("real") + "/serve.db") == nil)
        _ = try ServeStore(path: dir.file("real") + "/serve.db")
        // Also when the link is further up and the rest does not exist yet.
        #expect(openError(dir.file("link") + "/new/deeper/serve.db").map { "\($0)" }?.contains("symbolic link") == true)
        #expect(fileSize(dir.file("real") + "/new") == nil)
    }

    @Test func directoryFifoAndDeviceAreRefused() throws {
        let dir = StoreTempDir()
        #expect(mkdir(dir.file("adir"), 0o700) == 0)
        let d = try #require(openError(dir.file("adir")))
        #expect("\(d)".contains("is a directory"))
        #expect(mkfifo(dir.file("fifo"), 0o600) == 0)
        let f = try #require(openError(dir.file("fifo")))
        #expect("\(f)".contains("FIFO"))
        // /dev/null sits in a directory others cannot write but is a device.
        let n = try #require(openError("/dev/null"))
        guard case .unsafeFile = n else { Issue.record("got \(n)"); return }
    }

    @Test func nonSQLiteFileIsRefusedAndLeftAlone() throws {
        let dir = StoreTempDir()
        let content = Data("{\"not\": \"a database\"}\n".utf8)
        #expect(FileManager.default.createFile(atPath: dir.file(), contents: content, attributes: [.posixPermissions: 0o600]))
        let error = try #require(openError(dir.file()))
        guard case .notServeStore(_, let reason) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("not an SQLite database"))
        #expect(FileManager.default.contents(atPath: dir.file()) == content)
        #expect(fileSize(dir.file() + "-wal") == nil)
        // A file that starts like SQLite but is garbage after the header is refused by SQLite.
        var fake = Array("SQLite format 3".utf8) + [0] + [UInt8](repeating: 0xee, count: 4096)
        fake[16] = 0x00; fake[17] = 0x03  // an invalid page size
        #expect(FileManager.default.createFile(atPath: dir.file("fake.db"), contents: Data(fake), attributes: [.posixPermissions: 0o600]))
        let fakeError = try #require(openError(dir.file("fake.db")))
        guard case .notServeStore = fakeError else { Issue.record("got \(fakeError)"); return }
    }

    @Test func anotherProgramsDatabaseIsRefusedAndLeftAlone() throws {
        let dir = StoreTempDir()
        do {
            let other = RawSQLite(dir.file())
            #expect(other.exec("CREATE TABLE accounts (name TEXT); INSERT INTO accounts VALUES ('x')") == 0)
        }
        #expect(chmod(dir.file(), 0o600) == 0)
        let error = try #require(openError(dir.file()))
        guard case .notServeStore(_, let reason) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("another program"))
        let raw = RawSQLite(dir.file())
        #expect(raw.integer("SELECT count(*) FROM sqlite_master WHERE name = 'runs'") == 0)
        #expect(raw.integer("PRAGMA application_id") == 0)
    }

    @Test func newerSchemaIsRefusedAndLeftAlone() throws {
        let dir = StoreTempDir()
        do {
            let store = try ServeStore(path: dir.file())
            _ = try store.enqueue(sampleRun(1))
        }
        do {
            let raw = RawSQLite(dir.file())
            #expect(raw.exec("PRAGMA user_version = 7") == 0)
        }
        let error = try #require(openError(dir.file()))
        #expect(error == .newerSchema(path: dir.file(), found: 7, supported: StoreSchema.version))
        #expect("\(error)".contains("newer Warden"))
        #expect(RawSQLite(dir.file()).integer("SELECT count(*) FROM runs") == 1)
    }

    @Test func storeMissingATableIsRefused() throws {
        let dir = StoreTempDir()
        _ = try ServeStore(path: dir.file())
        #expect(RawSQLite(dir.file()).exec("DROP TABLE deliveries") == 0)
        let error = try #require(openError(dir.file()))
        #expect("\(error)".contains("damaged"))
    }

    @Test func unwritableDirectoryIsATypedError() throws {
        let dir = StoreTempDir()
        if geteuid() != 0 {
            let locked = dir.file("locked")
            #expect(mkdir(locked, 0o500) == 0)
            let error = try #require(openError(locked + "/serve.db"))
            guard case .cannotOpen(_, let reason) = error else { Issue.record("got \(error)"); return }
            #expect(reason.contains("writable"))
        }
        // Root writes anywhere DAC allows; sysfs refuses new files even to root.
        var st = stat()
        if stat("/sys/kernel", &st) == 0 {
            let error = try #require(openError("/sys/kernel/warden-serve.db"))
            guard case .cannotOpen = error else { Issue.record("got \(error)"); return }
        }
        // A path under a regular file.
        #expect(FileManager.default.createFile(atPath: dir.file("plain"), contents: Data()))
        let under = try #require(openError(dir.file("plain") + "/serve.db"))
        guard case .cannotOpen(_, let reason) = under else { Issue.record("got \(under)"); return }
        #expect(reason.contains("not a directory"))
    }

    @Test func filesOthersCanWriteAreRefused() throws {
        let dir = StoreTempDir()
        _ = try ServeStore(path: dir.file())
        #expect(chmod(dir.file(), 0o666) == 0)
        let loose = try #require(openError(dir.file()))
        #expect("\(loose)".contains("chmod 600"))
        #expect(chmod(dir.file(), 0o600) == 0)
        // The directory: anyone who can write it can replace the file or plant its -wal.
        let shared = dir.file("shared")
        #expect(mkdir(shared, 0o700) == 0 && chmod(shared, 0o1777) == 0)
        let e = try #require(openError(shared + "/serve.db"))
        #expect("\(e)".contains("writable by other users"))
        #expect(fileSize(shared + "/serve.db") == nil)
        // A planted side file (a link to somewhere else) is refused before SQLite opens it.
        _ = unlink(dir.file() + "-wal")
        #expect(symlink(dir.file("elsewhere"), dir.file() + "-wal") == 0)
        let side = try #require(openError(dir.file()))
        #expect("\(side)".contains("-wal") || "\(side)".contains("wal file"))
    }

    @Test func fileOfAnotherUserIsRefused() throws {
        guard geteuid() == 0 else { return }  // only root can give a file away
        let dir = StoreTempDir()
        _ = try ServeStore(path: dir.file())
        #expect(chown(dir.file(), 4242, 4242) == 0)
        let error = try #require(openError(dir.file()))
        #expect("\(error)".contains("uid 4242"))
    }

    @Test func badPathsAreRefused() throws {
        #expect(openError("") == .invalidArgument("the serve store path is empty"))
        #expect(openError("/tmp/a\u{0}b") == .invalidArgument("the serve store path contains a NUL byte"))
        let long = "/tmp/" + String(repeating: "a", count: 5000)
        guard case .invalidArgument = try #require(openError(long)) else { Issue.record("long path"); return }
        #expect(throws: ServeStoreError.self) { try ServeStore(path: "/tmp/x.db", maxQueued: 0) }
    }

    /// Error text that quotes a path with control characters is escaped for the terminal.
    @Test func errorTextIsEscaped() {
        let e = ServeStoreError.unsafeFile(path: "/tmp/\u{1b}]0;owned\u{7}", reason: "bad\u{1b}[2J")
        let text = "\(e)"
        #expect(!text.unicodeScalars.contains { $0 == "\u{1b}" || $0 == "\u{7}" })
        let long = ServeStoreError.sqlite(operation: "x", code: 1, message: String(repeating: "m", count: 100_000))
        #expect("\(long)".count < 2_000)
    }
}
