import Testing
@testable import WardenIdentity

@Test func moduleBuilds() { #expect(Bool(true) == true) }
