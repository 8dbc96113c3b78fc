@testable import WardenBrokerProtocol

/// The bytes of `text` (write CRLF as \r\n in the literal).
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A request head with the given request line and header lines, CRLF-terminated.
func request(_ line: String, _ headers: [String] = ["Host: api.example.com"]) -> [UInt8] {
    bytes(([line] + headers).map { $0 + "\r\n" }.joined() + "\r\n")
}

/// The refusal `body` throws, or nil when it does not throw (an error of another type
/// becomes status -1, which no test expects).
func refusal<T>(_ body: () throws -> T) -> HTTPRefusal? {
    do {
        _ = try body()
        return nil
    } catch let error as HTTPRefusal {
        return error
    } catch {
        return HTTPRefusal(status: -1, reason: "unexpected error \(error)")
    }
}

