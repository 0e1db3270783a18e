/// The checks one `RequestPipeline.decide` made, in order, as `gateway explain` prints them.
///
/// Recorded by `decide` itself when the caller passes a trace (`decide(_:context:runtime:trace:)`),
/// so an explanation is the real decision's path, never a re-enactment of it. Holds names and
/// reasons only, never token text.
public struct DecisionTrace: Sendable, Equatable {
    /// One check.
    public struct Step: Sendable, Equatable {
        /// Short name of the check: "method", "path", "cors", "route", "content", "auth",
        /// "client certificate", "token", "csrf", "issuer", "keys", "verify", "subject",
        /// "revocation", "introspection", "scopes", "roles/claims", "certificate binding",
        /// "identity".
        public var check: String
        public var passed: Bool
        /// Why, in words (never the token itself).
        public var detail: String

        public init(check: String, passed: Bool, detail: String) {
            self.check = check
            self.passed = passed
            self.detail = detail
        }
    }

    /// The checks in the order `decide` made them. The last failed one (if any) is the
    /// refusal, or on a report-only route the would-deny reason.
    public var steps: [Step] = []

    public init() {}

    /// Appends a step.
    public mutating func record(_ check: String, _ passed: Bool, _ detail: String) {
        steps.append(Step(check: check, passed: passed, detail: detail))
    }
}

extension DecisionTrace? {
    /// Records a step when tracing; `detail` is only built then, so an untraced decision
    /// (every served request) pays a nil check per step and nothing else.
    @inline(__always)
    mutating func record(_ check: String, _ passed: Bool, _ detail: @autoclosure () -> String) {
        if self != nil { self!.record(check, passed, detail()) }
    }

    /// Whether steps are being recorded.
    @inline(__always)
    var isTracing: Bool { self != nil }
}
