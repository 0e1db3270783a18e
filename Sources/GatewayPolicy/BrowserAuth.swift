import GatewayHTTP

/// A protected route's settings for browser clients: `auth.token_from`, `auth.csrf_origins`,
/// `auth.login_url`. See docs/browser-apps.md.
public struct BrowserAuth: Sendable, Equatable {
    /// In file order, no duplicates; default `[authorization]`.
    public var tokenFrom: [TokenSource] = [.authorization]
    /// Origins besides the gateway's own whose unsafe requests may carry a cookie token.
    public var csrfOrigins: [Origin] = []
    /// Absolute http(s) URL; `{url}` stands for the percent-encoded original URL.
    public var loginURL: String?
    /// Where `token_from` is written (for warnings); nil when it is left at its default.
    public var tokenFromLocation: ConfigLocation?
    /// Warnings found while reading these keys, ready to print.
    var parseWarnings: [String] = []
    public init() {}

    /// Whether any source is a cookie (the cross-site request guard applies to those tokens).
    public var usesCookies: Bool {
        tokenFrom.contains { if case .cookie = $0 { true } else { false } }
    }
}
