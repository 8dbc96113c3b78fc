import Testing
@testable import WardenBrokerProtocol

/// Sanity bounds, loose enough for a debug build on a busy machine, tight enough to catch
/// quadratic behaviour.
@Suite struct PerformanceTests {
    static func eightKiBHead() -> [UInt8] {
        var headers = ["Host: api.example.com", "User-Agent: perf/1.0", "Accept: application/json"]
        while headers.joined(separator: "\r\n").utf8.count < 8 * 1024 - 200 {
            headers.append("X-Header-\(headers.count): " + String(repeating: "v", count: 100))
        }
        return request("POST /v1/messages?stream=true HTTP/1.1", headers + ["Content-Length: 100"])
    }

    @Test func parsesEightKiBHeadsQuickly() throws {
        let head = Self.eightKiBHead()
        let clock = ContinuousClock()
        let iterations = 1000
        let elapsed = try clock.measure {
            for _ in 0..<iterations { _ = try RequestHead.parse(head) }
        }
        let perSecond = Double(iterations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print("8 KiB head: \(Int(perSecond)) parses/s")
        // Loose: a debug build on a machine shared with other builds; a quadratic parser fails it.
        #expect(perSecond > 200)
    }

    /// A 64 KiB head scanned after every single byte, then parsed: linear work overall.
    @Test func oneByteReadsOfAMaximalHeadAreNotQuadratic() throws {
        let filler = (0..<98).map { "X-\($0): " + String(repeating: "v", count: 640) }
        let head = request("GET / HTTP/1.1", ["Host: a"] + filler)
        #expect(head.count <= HTTPLimits.maxHeadBytes)
        let clock = ContinuousClock()
        var scanner = HeadEndScanner()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(head.count)
        var result = HeadScan.needMore
        let elapsed = try clock.measure {
            for byte in head where result == .needMore {
                buffer.append(byte)
                result = scanner.scan(buffer)
            }
            _ = try RequestHead.parse(buffer)
        }
        #expect(result == .complete(headLength: head.count))
        print("64 KiB head one byte at a time: \(elapsed)")
        #expect(elapsed < .seconds(5))
    }

    @Test func placeholderScanningIsLinear() {
        let tokens = [bytes("wdn_ph_0123456789abcdef0123456789abcdef")]
        let adversarial = [UInt8](bytes("wdn_ph_0123456789abcdef0123456789abcde").prefix(38)) + [UInt8](repeating: UInt8(ascii: "w"), count: 1 << 20)
        let clock = ContinuousClock()
        var scanner = PlaceholderScanner(tokens: tokens)
        var forwarded = 0
        let elapsed = clock.measure {
            var offset = 0
            while offset < adversarial.count {
                let end = min(adversarial.count, offset + 4096)
                forwarded += scanner.feed(Array(adversarial[offset..<end])).forward.count
                offset = end
            }
            forwarded += scanner.finish().count
        }
        #expect(forwarded == adversarial.count)
        print("1 MiB adversarial placeholder scan: \(elapsed)")
        #expect(elapsed < .seconds(10))
    }
}
