/// How the webhook layer meets `warden serve`'s HTTP types.
extension WebhookRequest {
    /// The webhook view of a served request: its headers and body as received. (The route,
    /// `WebhookEndpoint.parse(path: request.path)`, and the method, POST, are the server's.)
    public init(_ request: ServeRequest) {
        self.init(headers: request.headers, body: request.body)
    }
}

extension WebhookRejection {
    /// The answer to send: the status and the reason as plain text (safe to return: ASCII,
    /// bounded, no credential).
    public var response: ServeResponse { .text(status, reason) }
}
