import GatewayPolicy

/// When a remote JWK Set (`jwks_url`) is fetched again (`jwks_refresh`; docs/operations.md, key fetching).
/// Pure arithmetic; the server's JWKS service applies it.
public enum JWKSRefreshPolicy {
    /// No JWK Set is fetched more often than this, seconds.
    public static let minimumInterval: Double = IssuerConfig.minimumJWKSRefresh

    /// Seconds until the next refresh after a successful fetch: `jwks_refresh`, or the
    /// response's `Cache-Control: max-age` when shorter, never under `minimumInterval`.
    public static func interval(configured: Double, maxAge: Double?) -> Double {
        var seconds = configured
        if let maxAge, maxAge < seconds { seconds = maxAge }
        return max(minimumInterval, seconds)
    }

    /// Seconds until the retry after `failures` (≥ 1) consecutive failed fetches:
    /// 30 s, 60 s, 120 s... doubling, at most `jwks_refresh` (and never under 30 s).
    public static func retryInterval(failures: Int, configured: Double) -> Double {
        let doublings = min(max(0, failures - 1), 20)
        let backoff = minimumInterval * Double(1 << doublings)
        return max(minimumInterval, min(backoff, max(configured, minimumInterval)))
    }

    /// `max-age` from `Cache-Control` field values (RFC 9111 §5.2.2.1), seconds; `no-cache`
    /// and `no-store` count as 0 (then clamped by `interval`). Nil when absent or malformed.
    public static func maxAge(cacheControl values: [String]) -> Double? {
        var result: Double?
        for value in values {
            for directive in value.split(separator: ",") {
                let d = directive.trimmingSpaces().lowercased()
                if d == "no-cache" || d == "no-store" { result = min(result ?? 0, 0) }
                guard d.hasPrefix("max-age=") else { continue }
                var digits = d.dropFirst("max-age=".count)
                if digits.hasPrefix("\""), digits.hasSuffix("\""), digits.count >= 2 { digits = digits.dropFirst().dropLast() }
                guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                      let n = Double(digits) else { continue }
                result = min(result ?? n, n)
            }
        }
        return result
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

extension JWKSRefreshPolicy {
    /// Most seconds between two attempts to fetch the keys of an issuer that has none yet.
    public static let startupRetryCeiling: Double = 60

    /// Seconds until the next attempt after `failures` (≥ 1) consecutive failed fetches of an
    /// issuer that has no keys yet (its identity provider was down at startup): 1 s, 2 s,
    /// 4 s... doubling, at most 60 s.
    public static func startupRetryInterval(failures: Int) -> Double {
        let doublings = min(max(0, failures - 1), 20)
        return min(startupRetryCeiling, Double(1 << doublings))
    }
}
