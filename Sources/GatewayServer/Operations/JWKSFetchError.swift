import GatewayJOSE
import GatewayUpstream

/// Why a JWK Set could not be fetched. Texts name no key material and no URL query.
public enum JWKSFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Connect, TLS, timeout or a broken response (libcurl's short message).
    case transport(UpstreamError)
    /// The server answered with a status other than 200.
    case status(Int)
    /// The document is over `KeySet.maxJWKSetBytes` (1 MiB).
    case tooLarge
    /// Not a JWK Set with a usable key (`KeyLoadError`'s text), or a discovery document
    /// refused (wrong `issuer`, no usable `jwks_uri`).
    case invalid(String)
    /// The discovery document itself could not be fetched.
    indirect case discovery(JWKSFetchError)
    /// The JWK Set named by a discovery document's `jwks_uri` could not be fetched.
    indirect case jwksURI(String, JWKSFetchError)

    public var description: String {
        switch self {
        case .transport(let e):
            switch e {
            case .timeout: return "timed out"
            case .connectFailed(let m), .invalidResponse(let m), .aborted(let m): return m
            case .cancelled: return "cancelled"
            }
        case .status(let s): return "HTTP status \(s)"
        case .tooLarge: return "document over \(KeySet.maxJWKSetBytes) bytes"
        case .invalid(let why): return why
        case .discovery(let e): return "discovery document: \(e)"
        case .jwksURI(let url, let e): return "JWK Set at jwks_uri \(DiscoveryDocument.shown(url)): \(e)"
        }
    }
}
