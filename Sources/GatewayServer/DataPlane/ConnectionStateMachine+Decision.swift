/// The decision step of an exchange, as events of `ConnectionStateMachine`: the I/O side
/// runs the pure decision (`RequestPipeline.decide`, or `ForwardAuth.decide` on the decision
/// listener) and reports its verdict here; the machine says what follows (answer, start the
/// upstream exchange with or without `100 Continue` first, send the gateway's own answer, or
/// wait for a key refetch or an introspection answer and decide again).
extension ConnectionStateMachine {
    /// What the decision concluded for the exchange's request head.
    enum Verdict: Equatable {
        /// Forward (upstream, or to the listener's local responder). `declaredLength`: the
        /// head's `Content-Length` (nil: no body, or chunked); `maxBody`: the exchange's body
        /// limit in bytes; `wantsContinue`: an HTTP/1.1 `Expect: 100-continue` with a body
        /// (RFC 9110 §10.1.1).
        case forward(declaredLength: UInt64?, maxBody: Int, wantsContinue: Bool)
        /// Refused: the outcome's response ends the exchange.
        case refuse(Outcome)
        /// Answered by the gateway itself (a CORS preflight, a decision for an ingress).
        case answered
        /// The decision needs an issuer's refetched JWK Set or an introspection answer first.
        case waitForInput
    }

    /// What the I/O side does after a verdict.
    enum DecisionStep: Equatable {
        /// Answer with the outcome's response (a refusal, a body over the limit).
        case answer(Outcome)
        /// Start the exchange with the upstream (or the local responder), after writing
        /// `100 Continue` when `sendContinue`.
        case forward(sendContinue: Bool)
        /// Send the answer the gateway built.
        case sendAnswer
        /// Nothing until `decisionInputArrived()`; then decide again.
        case wait
    }

    /// The exchange's head was decided.
    mutating func decided(_ verdict: Verdict) -> DecisionStep {
        guard case .exchange = state else {
            preconditionFailure("a decision in state \(state): no exchange is open")
        }
        precondition(!awaitingDecisionInput, "a decision while the previous one still waits for its input")
        switch verdict {
        case .forward(let declared, let maxBody, let wantsContinue):
            // A declared length over the limit is refused before anything is sent or read
            // (no 100 Continue, no upstream contact).
            if let declared, declared > UInt64(max(maxBody, 0)) { return .answer(.bodyTooLarge) }
            return .forward(sendContinue: wantsContinue)
        case .refuse(let outcome):
            return .answer(outcome)
        case .answered:
            return .sendAnswer
        case .waitForInput:
            awaitingDecisionInput = true
            return .wait
        }
    }

    /// The key refetch or introspection answer the decision waited for arrived: the I/O side
    /// decides again.
    mutating func decisionInputArrived() {
        precondition(awaitingDecisionInput, "decision input arrived while no decision waits for it")
        awaitingDecisionInput = false
    }
}
