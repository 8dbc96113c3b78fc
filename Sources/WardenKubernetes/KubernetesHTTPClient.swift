import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import WardenKernel

/// The API server's client: AsyncHTTPClient (TLS through swift-nio-ssl, the server's
/// certificate checked against the CA file when one is given, else the system's roots), a
/// bearer token read from its file for each request, bounded answers and deadlines so an
/// API server that stops answering fails the call instead of hanging a worker.
public final class KubernetesHTTPClient: KubernetesAPI {
    public let connection: KubernetesConnection
    /// The largest answer body read (pod logs are asked for with `limitBytes` below this).
    public let maxBody: Int
    /// How long one request may take in all.
    public let requestTimeout: Int64
    private let client: HTTPClient

    public init(connection: KubernetesConnection, maxBody: Int = 64 << 20, requestTimeoutSeconds: Int64 = 60) throws(KubernetesError) {
        self.connection = connection
        self.maxBody = maxBody
        self.requestTimeout = requestTimeoutSeconds
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let ca = connection.caFile {
            do {
                let bytes = try BoundedFileReader.read(ca, limit: 1 << 20)
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(bytes))
            } catch {
                throw .configuration("--k8s-ca-file \(TerminalText.escape(ca)): not a readable PEM certificate bundle (\(error))")
            }
        }
        if let file = connection.tokenFile {
            do { _ = try BoundedFileReader.read(file, limit: 64 << 10) } catch {
                throw .configuration("--k8s-token-file \(TerminalText.escape(file)): \(error)")
            }
        }
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(requestTimeoutSeconds))
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    deinit { try? client.syncShutdown() }

    public func send(_ request: KubernetesRequest) throws(KubernetesError) -> KubernetesResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "warden-serve")
        if let file = connection.tokenFile {
            let token: [UInt8]
            do { token = try BoundedFileReader.read(file, limit: 64 << 10) } catch {
                throw .configuration("--k8s-token-file \(TerminalText.escape(file)): \(error)")
            }
            let text = String(decoding: token, as: UTF8.self).trimmingWhitespace()
            guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw .configuration("--k8s-token-file \(TerminalText.escape(file)): not a bearer token (empty, or bytes outside printable ASCII)")
            }
            headers.add(name: "Authorization", value: "Bearer " + text)
        }
        var body: HTTPClient.Body?
        if let bytes = request.body {
            headers.add(name: "Content-Type", value: "application/json")
            body = .bytes(bytes)
        }
        let httpRequest: HTTPClient.Request
        do {
            httpRequest = try HTTPClient.Request(url: connection.server + request.path, method: HTTPMethod(rawValue: request.method),
                                                 headers: headers, body: body)
        } catch {
            throw .configuration("cannot form a request to \(TerminalText.escape(connection.server + request.path)): \(error)")
        }
        let accumulator = ResponseAccumulator(request: httpRequest, maxBodySize: maxBody)
        do {
            let response = try client.execute(request: httpRequest, delegate: accumulator,
                                              deadline: .now() + .seconds(requestTimeout)).wait()
            var buffer = response.body ?? ByteBuffer()
            return KubernetesResponse(status: Int(response.status.code), body: buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch {
            throw .unreachable("\(request.method) \(connection.server)\(request.path): \(error)")
        }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line ends.
    func trimmingWhitespace() -> String {
        let ws: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r"]
        var s = Substring(self)
        while let f = s.unicodeScalars.first, ws.contains(f) { s = s.dropFirst() }
        while let l = s.unicodeScalars.last, ws.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
