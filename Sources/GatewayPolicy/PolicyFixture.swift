import GatewayJOSE

/// One policy-test file for `gateway test`: signing keys, and cases that each describe a
/// request, its token and what the gateway must decide. Read by `PolicyFixtureLoader`.
///
/// ```yaml
/// keys:
///   corp: {alg: RS256, kid: corp-1, private_key_file: keys/corp.pem}   # or secret_env
/// cases:
///   - name: reader can list orders
///     request: {method: GET, url: "https://api.example.com/orders/1", headers: {}}
///     token: {key: corp, claims: {sub: alice, scope: "read:orders"}, ttl: 10m}
///     expect: {status: forward, route: orders-read, upstream_headers: {X-Auth-Subject: alice}}
/// ```
public struct PolicyFixture: Sendable {
    /// A signing key for the cases' tokens.
    public struct Key: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            /// PEM private key file (path resolved against the fixture file's directory).
            case privateKeyFile(String)
            /// HMAC secret from this environment variable, in this encoding.
            case secretEnv(String, SecretEncoding)
        }

        public var name: String
        public var algorithm: JWSAlgorithm
        /// `kid` written into the tokens' header; nil: none.
        public var keyID: String?
        public var source: Source
        public var location: ConfigLocation
    }

    /// The token a case sends as `Authorization: Bearer <token>`.
    public enum Token: Sendable, Equatable {
        /// Sent exactly as written.
        case literal(String)
        /// Signed when the case runs with key `key`. `claims` are JSON member texts
        /// (`"sub":"alice"`) in file order; `iat` and `exp` are added from the clock and
        /// `ttl` (seconds) unless written.
        case minted(key: String, claims: [String], hasIssuedAt: Bool, hasExpiry: Bool, ttl: Double)
    }

    /// The request of a case.
    public struct Request: Sendable, Equatable {
        public var method: String
        /// The URL as written (`http://host[:port]/path?query`).
        public var url: String
        /// "http" or "https" (what the client used).
        public var scheme: String
        /// The URL's authority: sent as `Host`.
        public var host: String
        /// Origin-form target: path and query as written.
        public var target: String
        /// Further header fields, in file order.
        public var headers: [(name: String, value: String)]

        public static func == (a: Request, b: Request) -> Bool {
            a.method == b.method && a.url == b.url && a.headers.map(\.name) == b.headers.map(\.name)
                && a.headers.map(\.value) == b.headers.map(\.value)
        }
    }

    /// What a case expects; nil members are not compared.
    public struct Expectation: Sendable, Equatable {
        /// `forward`, or the refusal's status code.
        public enum Status: Sendable, Equatable, CustomStringConvertible {
            case forward
            case refused(Int)
            public var description: String {
                switch self {
                case .forward: "forward"
                case .refused(let code): String(code)
                }
            }
        }

        public var status: Status?
        /// The access log's `reason` (`ok`, `missing_token`, `insufficient_scope`...).
        public var reason: String?
        /// The matched route's name.
        public var route: String?
        /// The access log's `decision`: `allow`, `deny` or `would_deny`.
        public var decision: String?
        /// Header fields the upstream must receive with exactly this value, or (nil) must not receive.
        public var upstreamHeaders: [(name: String, value: String?)] = []

        public static func == (a: Expectation, b: Expectation) -> Bool {
            a.status == b.status && a.reason == b.reason && a.route == b.route && a.decision == b.decision
                && a.upstreamHeaders.map(\.name) == b.upstreamHeaders.map(\.name)
                && a.upstreamHeaders.map(\.value) == b.upstreamHeaders.map(\.value)
        }
    }

    /// One case.
    public struct Case: Sendable, Equatable {
        public var name: String
        public var request: Request
        /// nil: no `Authorization` field.
        public var token: Token?
        public var expect: Expectation
        /// Where the case starts in its file.
        public var location: ConfigLocation
    }

    public var path: String
    public var keys: [Key]
    public var cases: [Case]
}
