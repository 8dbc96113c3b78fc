import Testing
@testable import WardenRuntime

/// The launch asks whether seccomp user notification works without forking when this
/// process has no filter; the answer must be the one a child installing a listener gets.
@Suite struct UserNotificationProbeTests {
    @Test func theInPlaceAnswerIsTheChildsAnswer() {
        let inPlace = KernelSupport.userNotificationAvailable()
        let child = KernelSupport.userNotificationAvailableInChild()
        #expect(inPlace == child, "in place: \(inPlace), child: \(child)")
    }
}
