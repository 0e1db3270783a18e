import GatewayCore

extension ClientConnection {
    /// Waits, without blocking the loop, for the answer about `call.token`: joins the call
    /// already running for the same token (any loop), or makes it on this loop's libcurl
    /// multi handle. `resume` runs exactly once, on an arbitrary thread.
    func waitForIntrospection(_ call: IntrospectionCall, resume: @escaping @Sendable (IntrospectionAnswer) -> Void) {
        guard call.introspection.cache.join(call.key, completion: resume) else { return }
        loop.introspect(call)
    }

    /// What both listeners do when a decision cannot be made yet: wait (without blocking the
    /// loop) for the issuer's shared JWK Set refetch, then run `again` on the loop's queue
    /// while `ex` is still this connection's exchange.
    func afterKeyRefetch(of issuer: String, for ex: Exchange, runtime: GatewayRuntime,
                         then again: @escaping @Sendable (ClientConnection) -> Void) {
        let queue = loop.queue
        let resume: @Sendable (Bool) -> Void = { [weak self] _ in
            queue.async { [weak self] in
                guard let self, self.exchange === ex, !self.closed else { return }
                self.machine.decisionInputArrived()
                again(self)
            }
        }
        if let store = runtime.issuers[issuer]?.store, let jwks = loop.jwks {
            jwks.refetchForUnknownKey(store, completion: resume)
        } else {
            resume(false)
        }
    }

    /// The same for an introspection answer (`waitForIntrospection`).
    func afterIntrospection(_ call: IntrospectionCall, for ex: Exchange,
                            then again: @escaping @Sendable (ClientConnection, IntrospectionAnswer) -> Void) {
        let queue = loop.queue
        waitForIntrospection(call) { [weak self] answer in
            queue.async { [weak self] in
                guard let self, self.exchange === ex, !self.closed else { return }
                self.machine.decisionInputArrived()
                again(self, answer)
            }
        }
    }
}
