import Testing
@testable import WardenBroker

@Test func moduleBuilds() { #expect(Bool(true) == true) }
