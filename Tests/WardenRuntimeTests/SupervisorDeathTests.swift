import Foundation
import Testing
@testable import WardenRuntime

@Suite("Supervisor death", .serialized)
struct SupervisorDeathTests {
    /// The C harness (built from the launcher's sources) plays the supervisor; it is
    /// SIGKILLed at different moments, and no process of the sandbox may survive.
    @Test(arguments: ["hold", "hold-all"], [0, 1_000, 20_000, 100_000, 400_000])
    func killingTheSupervisorKillsTheTree(mode: String, delayMicros: Int) throws {
        let harness = try #require(Fixture.harness)
        let token = "warden-orphan-\(UUID().uuidString.prefix(8))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: harness)
        p.arguments = [mode, "/bin/sh", "-c",
                       "/bin/sh -c 'trap \"\" TERM HUP; while :; do sleep 1; done' \(token) & trap '' TERM; while :; do sleep 1; done",
                       token]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        if delayMicros >= 100_000 {
            // Make sure the tree exists before the kill at least in the later rounds.
            #expect(eventually { processes(containing: token).count >= 2 }, "the agent never started")
        }
        usleep(useconds_t(delayMicros))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(eventually { processes(containing: token).isEmpty }, "survivors: \(processes(containing: token))")
    }
}
