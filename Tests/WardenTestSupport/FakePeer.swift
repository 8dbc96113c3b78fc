import Foundation

/// A fake network peer the tests run (a Python script under Tests/ExportChecks that takes
/// one JSON config file and prints the port it listens on, then serves on 127.0.0.1).
public enum FakePeer {
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `config` as JSON to `configPath`, starts `script` with it, and waits for the
    /// port it prints: (the process, `http://127.0.0.1:PORT`).
    public static func start(script: String, config: [String: Any], configPath: String) throws -> (Process, String) {
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [script, configPath]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var line: [UInt8] = []
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first, b != 0x0A else { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            p.terminate()
            throw StartError(description: "\(script) printed no port")
        }
        return (p, "http://127.0.0.1:\(port)")
    }
}
