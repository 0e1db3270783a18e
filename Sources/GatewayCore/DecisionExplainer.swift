import GatewayHTTP
import GatewayPolicy

/// One step of a request decision, for `gateway explain`.
public typealias ExplainStep = DecisionTrace.Step

/// `gateway explain` (README command table): the `DecisionTrace` of `RequestPipeline.decide`
/// for one request, so the explanation is the decision's own path and cannot disagree with
/// what the gateway would do.
public enum DecisionExplainer {
    /// The traced decision. Nothing is sent anywhere: a route with `introspect: true` whose
    /// token has no cached answer is decided as if the endpoint answered `active: true`, and
    /// its step says so (an inactive token would be 401, no answer 503).
    public static func explain(_ head: HTTPRequestHead, context: RequestContext, runtime: GatewayRuntime)
        -> (steps: [ExplainStep], decision: Decision)
    {
        var trace: DecisionTrace? = DecisionTrace()
        var decision = RequestPipeline.decide(head, context: context, runtime: runtime, trace: &trace)
        if case .needsIntrospection(let call) = decision {
            // No call is made: explain never sends the token anywhere.
            var assumed = context
            assumed.introspectionAnswer = .active(exp: nil)
            trace = DecisionTrace()
            decision = RequestPipeline.decide(head, context: assumed, runtime: runtime, trace: &trace)
            let config = call.introspection.config
            for i in trace!.steps.indices where trace!.steps[i].check == "introspection" {
                trace!.steps[i].detail = "would POST the token to \(config.url) (client_id \(config.clientID)), not called by"
                    + " explain; the rest assumes \"active\": true (false: 401 token inactive; no answer: 503)"
            }
        }
        return (trace?.steps ?? [], decision)
    }
}
