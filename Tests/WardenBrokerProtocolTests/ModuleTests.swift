import Testing
@testable import WardenBrokerProtocol

@Test func moduleBuilds() { #expect(Bool(true) == true) }
