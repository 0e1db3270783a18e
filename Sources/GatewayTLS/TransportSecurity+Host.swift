import GatewayEvents

extension TransportSecurity {
    /// Whether a request with this `Host` must be refused with 421 Misdirected Request
    /// (RFC 9110 §15.5.20): the client sent SNI and the certificate chosen for it does not
    /// cover the host. Without SNI nothing is misdirected.
    /// - Parameter host: the `Host` field value as received: `name`, `name:port`, `[v6]:port`.
    public func isMisdirected(host: String) -> Bool {
        guard serverName != nil else { return false }
        return !TLSHostName.covers(certificateNames, hostField: host)
    }
}
