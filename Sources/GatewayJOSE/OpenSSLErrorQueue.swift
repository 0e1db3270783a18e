internal import COpenSSL

/// The one place that reads OpenSSL's thread-local error queue (every C error convention is translated in one place).
///
/// Every failing libcrypto call leaves entries on the queue; they must be cleared or
/// they leak into the next, unrelated check on the same thread.
package enum OpenSSLErrorQueue {
    /// Drains the queue into one line of OpenSSL reason strings (library and reason,
    /// never key material), for config errors.
    package static func take() -> String {
        var reasons: [String] = []
        var buf = [CChar](repeating: 0, count: 256)
        for _ in 0..<16 {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buf, buf.count)
            reasons.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        ERR_clear_error()
        return reasons.isEmpty ? "no OpenSSL detail" : reasons.joined(separator: "; ")
    }

    /// A key-loading error naming what failed plus the OpenSSL reasons; clears the queue.
    static func keyLoadError(_ what: String) -> KeyLoadError {
        .invalid("\(what) (\(take()))")
    }

    /// Discards the queue (verification failures are reported as `TokenError.signature`).
    @inline(__always) package static func clear() { ERR_clear_error() }
}
