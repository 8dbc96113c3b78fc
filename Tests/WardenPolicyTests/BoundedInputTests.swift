import Foundation
import Testing
import WardenKernel
@testable import WardenPolicy

/// Policy files are read with bounds: regular files only, never blocking, size-limited per
/// file and per load.
@Suite struct BoundedInputTests {
    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "warden-bounded-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func deviceFileIsRefusedBeforeReading() {
        #expect(throws: SourceProviderError.notRegularFile(path: "/dev/zero", kind: "a character device")) {
            try FileSystemSourceProvider().read("/dev/zero")
        }
    }

    @Test func fifoIsRefusedWithoutBlocking() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // No writer ever opens it: a blocking open would hang this test.
        #expect(mkfifo(dir + "/pipe.warden", 0o600) == 0)
        #expect(throws: SourceProviderError.notRegularFile(path: dir + "/pipe.warden", kind: "a FIFO (named pipe)")) {
            try FileSystemSourceProvider().read(dir + "/pipe.warden")
        }
    }

    @Test func directoryIsRefused() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: SourceProviderError.notRegularFile(path: dir, kind: "a directory")) {
            try FileSystemSourceProvider().read(dir)
        }
    }

    @Test func fileOverTheLimitIsRefused() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big.warden"
        try "warden 1\n# 0123456789\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SourceProviderError.tooLarge(path: path, limit: 16, total: false)) {
            try FileSystemSourceProvider().read(path, limit: 16)
        }
        #expect(try FileSystemSourceProvider().read(path, limit: 22) == "warden 1\n# 0123456789\n")
        // The default limit, on a sparse file (no bytes written, nothing read).
        let sparse = dir + "/sparse.warden"
        #expect(FileManager.default.createFile(atPath: sparse, contents: nil))
        #expect(truncate(sparse, off_t(PolicyLoader.defaultMaxFileBytes + 1)) == 0)
        let error = #expect(throws: SourceProviderError.self) { try FileSystemSourceProvider().read(sparse) }
        #expect(error?.description.contains("larger than 16 MiB, the limit for one policy file") == true)
    }

    /// The limit holds while reading, not only by the size `fstat` saw: a stream (or a file
    /// that grows after the check) is cut off at the limit.
    @Test func limitIsEnforcedWhileReading() throws {
        for (limit, expected) in [(100, 100), (99, nil), (1, nil)] as [(Int, Int?)] {
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            let bytes = [UInt8](repeating: 0x61, count: 100)
            #expect(write(fds[1], bytes, bytes.count) == 100)
            close(fds[1])
            defer { close(fds[0]) }
            if let expected {
                #expect(try BoundedFileReader.readAll(fds[0], limit: limit).count == expected)
            } else {
                #expect(throws: BoundedFileReadError.tooLarge(limit: limit)) { try BoundedFileReader.readAll(fds[0], limit: limit) }
            }
        }
    }

    @Test func includeOfNonRegularFileIsAnInputError() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        #expect(mkfifo(dir + "/pipe.warden", 0o600) == 0)
        let main = dir + "/main.warden"
        try "warden 1\ninclude \"/dev/zero\"\ninclude \"pipe.warden\"\ninclude \"sub\"\n".write(toFile: main, atomically: true, encoding: .utf8)
        let analysis = try PolicyLoader().analyze(main)
        #expect(locations(analysis.diagnostics) == ["include-unreadable@2:9", "include-unreadable@3:9", "include-unreadable@4:9"])
        #expect(analysis.diagnostics.map(\.message) == [
            "cannot include `/dev/zero`: is a character device, not a regular file",
            "cannot include `\(dir)/pipe.warden`: is a FIFO (named pipe), not a regular file",
            "cannot include `\(dir)/sub`: is a directory, not a regular file",
        ])
        #expect(analysis.diagnostics.allSatisfy { $0.isInputError })
        #expect(analysis.diagnostics.hasInputErrors)
    }

    @Test func includesShareOneByteBudget() {
        // Each file fits the per-file limit; together they exceed the budget.
        let file = "warden 1\n" + String(repeating: "#", count: 80) + "\n"
        var files = ["main.warden": "warden 1\n" + (0..<5).map { "include \"f\($0).warden\"\n" }.joined()]
        for i in 0..<5 { files["f\(i).warden"] = file }
        let loader = PolicyLoader(provider: InMemorySourceProvider(files), maxFileBytes: 120, maxTotalBytes: 300)
        let analysis = try? loader.analyze("main.warden")
        let diagnostics = analysis?.diagnostics ?? []
        // main (109 bytes) + f0 + f1 (90 each) fit in 300; f2 does not, and neither do the later ones.
        #expect(diagnostics.map(\.code) == ["include-unreadable", "include-unreadable", "include-unreadable"])
        #expect(diagnostics.first?.message == "cannot include `f2.warden`: reading it takes the policy and its includes over 300 bytes in total")
        #expect(diagnostics.allSatisfy { $0.isInputError })
    }

    @Test func rootOverTheLimitThrows() {
        let loader = PolicyLoader(provider: InMemorySourceProvider(["main.warden": "warden 1\n# long comment\n"]), maxFileBytes: 10)
        #expect(throws: SourceProviderError.tooLarge(path: "main.warden", limit: 10, total: false)) {
            try loader.analyze("main.warden")
        }
    }

    @Test func missingIncludeIsAPolicyErrorNotAnInputError() {
        let a = analyze("warden 1\ninclude \"nope.warden\"\n")
        #expect(a.diagnostics.map(\.code) == ["include-not-found"])
        #expect(!a.diagnostics.hasInputErrors)
    }
}
