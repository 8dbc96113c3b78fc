import Testing
@testable import WardenServe

@Suite struct ServeLimitsTests {
    /// The head limit leaves room for GitHub's headers and stays far below the body limit.
    @Test func limitsAreOrdered() {
        #expect(ServeLimits.maxHeadBytes >= 8 * 1024)
        #expect(ServeLimits.maxHeadBytes < ServeLimits.maxBodyBytes)
        #expect(ServeLimits.replayWindowSeconds > 0)
    }
}
