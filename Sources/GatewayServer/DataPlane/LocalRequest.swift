import GatewayHTTP

/// A request the gateway answers itself (the admin endpoints, the demo echo upstream), on
/// the same connection code as the public listener.
public struct LocalRequest: Sendable {
    public var head: HTTPRequestHead
    /// The whole request body (bounded by the listener's `localMaxBody`).
    public var body: [UInt8]
    /// The client's address as text ("127.0.0.1", "::1").
    public var peer: String
}

/// Answers a `LocalRequest`: calls `respond` exactly once, on any queue, possibly later.
public typealias LocalResponder = @Sendable (LocalRequest, _ respond: @escaping @Sendable (GatewayResponse) -> Void) -> Void
