import GatewayCore

extension ClientConnection {
    /// Waits, without blocking the loop, for the answer about `call.token`: joins the call
    /// already running for the same token (any loop), or makes it on this loop's libcurl
    /// multi handle. `resume` runs exactly once, on an arbitrary thread.
    func waitForIntrospection(_ call: IntrospectionCall, resume: @escaping @Sendable (IntrospectionAnswer) -> Void) {
        guard call.introspection.cache.join(call.key, completion: resume) else { return }
        loop.introspect(call)
    }
}
