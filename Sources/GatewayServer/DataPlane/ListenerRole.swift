/// What a `GatewayServer` listener does with a request.
public enum ListenerRole: String, Sendable {
    /// The proxy listener (`listen`): decide, then forward allowed requests upstream.
    case proxy
    /// The decision listener (`decision`, docs/forward-auth.md): decide the request an
    /// ingress describes and answer 200 with identity fields or the refusal; nothing is
    /// forwarded and no request body is read. Access log and metrics carry
    /// `listener="decision"`.
    case decision
}
