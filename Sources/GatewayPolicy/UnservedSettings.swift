/// Settings `gateway check` validates but `gateway serve` (and a reload) does not apply yet:
/// HTTPS on the listener, trusted proxies and client-certificate routes arrive with the TLS
/// listener. Serving a config that asks for them would silently drop a security setting, so
/// it is refused.
public enum UnservedSettings {
    /// One error per such setting, at its key.
    public static func errors(_ config: GatewayConfig) -> [ConfigError] {
        var out: [ConfigError] = []
        if let tls = config.listenTLS {
            out.append(ConfigError(location: tls.location, message: "listen.tls is not supported by `gateway serve` yet"))
        }
        if let at = config.trustedProxiesLocation {
            out.append(ConfigError(location: at, message: "listen.trusted_proxies is not supported by `gateway serve` yet"))
        }
        for route in config.routes {
            if case .required(let req) = route.auth, req.clientCertificate {
                out.append(ConfigError(location: route.location,
                                       message: "route `\(route.name)`: auth.client_certificate is not supported by `gateway serve` yet"))
            }
        }
        return out
    }
}
