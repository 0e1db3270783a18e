internal import CCurl

/// A libcurl share handle (`CURLSH *`) holding one TLS session cache
/// (CURL_LOCK_DATA_SSL_SESSION) for a loop's connect-only connections: a new connection
/// to an upstream resumes a session of an earlier one (RFC 8446 §2.2) instead of a full
/// handshake, as the easy handles of libcurl's transfers do with their own caches. libcurl
/// hands a session only to a connection with the same host, port and TLS options (CA file,
/// client certificate and key). No lock callbacks: only the loop's queue uses it.
///
/// A class: every easy handle attached to it keeps it (`CurlEasyHandle.attach(share:)`),
/// so curl_share_cleanup runs after the last of them is cleaned up.
final class CurlShareHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init() throws(UpstreamCallError) {
        guard let pointer = curl_share_init() else {
            throw UpstreamCallError(code: .share(CURLSHE_NOMEM), call: "curl_share_init")
        }
        self.pointer = pointer
        try UpstreamCallError.check(gw_share_setopt_long(pointer, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_SSL_SESSION.rawValue)),
                                    "curl_share_setopt")
    }

    deinit {
        // CURLSHE_IN_USE cannot happen (every attached easy handle holds this object), nor
        // CURLSHE_INVALID: a failure is a broken invariant.
        do {
            try UpstreamCallError.check(curl_share_cleanup(pointer), "curl_share_cleanup")
        } catch {
            preconditionFailure("\(error)")
        }
    }
}
