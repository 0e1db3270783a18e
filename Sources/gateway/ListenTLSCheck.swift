import GatewayPolicy
import GatewayServer
import GatewayTLS

/// `listen.tls` and `decision.tls` as the TLS layer takes them, and the certificate findings
/// `gateway check` prints (`PATH:LINE:COLUMN: message`, warnings with `warning:`).
enum ListenTLSCheck {
    static func configuration(_ tls: ListenTLSConfig) -> TLSServerConfiguration {
        ListenTLS.configuration(tls)
    }

    /// Errors and warnings about the certificates of both listeners, the proxy listener's
    /// first (none without `listen.tls` and `decision.tls`). Each names the place of its
    /// listener's certificate pair (or `tls` key), so the two listeners' findings are told apart.
    /// - Parameter now: seconds since 1970.
    static func findings(_ config: GatewayConfig, now: Double) -> (errors: [String], warnings: [String]) {
        var errors: [String] = [], warnings: [String] = []
        for tls in [config.listenTLS, config.decisionTLS].compactMap({ $0 }) {
            for f in TLSCertificateCheck.findings(configuration(tls), now: now) {
                let at = f.certificate.map { tls.certificates[$0].location } ?? tls.location
                let place = "\(at.path):\(at.line):\(at.column):"
                switch f.severity {
                case .error: errors.append("\(place) \(f.message)")
                case .warning: warnings.append("\(place) warning: \(f.message)")
                }
            }
        }
        return (errors, warnings)
    }
}
