/// One header field as received: name with its original case, value with
/// surrounding whitespace removed (RFC 9110 §5.5).
public struct HTTPField: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
