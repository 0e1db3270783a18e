import Foundation
internal import GatewayJOSE

/// What `gateway check` says about the listener's certificates, without serving: each pair
/// is read and its key matched (as a reload would), and its validity dates compared with
/// `now`.
public enum TLSCertificateCheck {
    /// A certificate expiring sooner than this is a warning (seconds; 14 days).
    public static let expiryWarning: Double = 14 * 24 * 3600

    /// One problem found.
    public struct Finding: Sendable, Equatable {
        public enum Severity: Sendable, Equatable { case error, warning }
        public var severity: Severity
        /// Index into `TLSServerConfiguration.certificates`; nil for the client CA file.
        public var certificate: Int?
        /// Names the file and the certificate's DNS names; no key material.
        public var message: String
    }

    /// - Parameter now: seconds since 1970 (injected for tests).
    public static func findings(_ configuration: TLSServerConfiguration, now: Double) -> [Finding] {
        var out: [Finding] = []
        for (i, files) in configuration.certificates.enumerated() {
            let certificate: TLSCertificate
            do {
                certificate = try TLSCertificate(files: files)
            } catch {
                out.append(Finding(severity: .error, certificate: i, message: error.description))
                continue
            }
            let names = certificate.names.isEmpty ? "no DNS names" : "names: " + certificate.names.joined(separator: ", ")
            let which = "certificate \(files.certificate) (\(names))"
            if let notAfter = certificate.leaf.notAfter {
                if notAfter <= now {
                    out.append(Finding(severity: .error, certificate: i, message: "\(which) expired on \(date(notAfter))"))
                } else if notAfter - now < expiryWarning {
                    let days = Int(((notAfter - now) / 86400).rounded(.down))
                    out.append(Finding(severity: .warning, certificate: i,
                                       message: "\(which) expires on \(date(notAfter)) (in \(days) day\(days == 1 ? "" : "s"))"))
                }
            }
            if let notBefore = certificate.leaf.notBefore, notBefore > now {
                out.append(Finding(severity: .error, certificate: i, message: "\(which) is not valid before \(date(notBefore))"))
            }
            if certificate.names.isEmpty {
                out.append(Finding(severity: .warning, certificate: i,
                                   message: "\(which) has no subjectAltName DNS names: SNI never selects it, and a request with SNI on it gets 421"))
            }
        }
        // The whole context: client CA bundle and OpenSSL's acceptance of each pair.
        if !out.contains(where: { $0.severity == .error }) {
            do {
                _ = try TLSServerContext(configuration: configuration)
            } catch {
                let index = configuration.certificates.firstIndex { $0.certificate == error.file || $0.privateKey == error.file }
                out.append(Finding(severity: .error, certificate: index, message: error.description))
            }
        }
        return out
    }

    /// "2026-12-03T09:52:11Z".
    static func date(_ seconds: Double) -> String {
        RFC3339.string(epochSeconds: seconds, milliseconds: false)
    }
}
