/// Why a request-target was refused (always 400). The reason is a fixed text that
/// never echoes client bytes.
public enum PathError: Error, Sendable, Equatable {
    case invalid(String)
}
