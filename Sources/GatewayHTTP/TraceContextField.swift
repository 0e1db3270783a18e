/// The two header fields of W3C Trace Context (https://www.w3.org/TR/trace-context/ §3):
/// `traceparent` and `tracestate`. The gateway never forwards the client's as they are: it
/// sends its own in their place.
public enum TraceContextField: Sendable, Equatable {
    case parent
    case state

    /// The field `name` is (ASCII case-insensitive, RFC 9110 §5.1), or nil for any other name.
    @inlinable
    public static func kind(ofName name: UnsafeRawBufferPointer) -> TraceContextField? {
        switch name.count {
        case 11: HTTPSyntax.equalsLowercase(name, "traceparent") ? .parent : nil
        case 10: HTTPSyntax.equalsLowercase(name, "tracestate") ? .state : nil
        default: nil
        }
    }

    /// `kind(ofName:)` of `field`'s name.
    @inlinable
    public static func kind(of field: HTTPField) -> TraceContextField? {
        field.withNameBytes(kind(ofName:))
    }
}
