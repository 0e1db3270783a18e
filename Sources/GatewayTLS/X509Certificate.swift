internal import COpenSSL
internal import GatewayJOSE
import Foundation

/// Owns one `X509` (freed in `deinit`) and reads the facts the gateway needs from it.
/// Immutable once made; OpenSSL allows concurrent reads of one certificate.
final class X509Certificate: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    /// Shares a certificate OpenSSL owns (takes a reference of its own).
    init(retaining pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.pointer = pointer
    }

    deinit { X509_free(pointer) }

    /// The subjectAltName DNS entries (RFC 5280 §4.2.1.6), lowercased, in certificate order.
    var dnsNames: [String] {
        guard let raw = X509_get_ext_d2i(pointer, NID_subject_alt_name, nil, nil) else {
            OpenSSLErrorQueue.clear()
            return []
        }
        let names = OpaquePointer(raw)
        defer { GENERAL_NAMES_free(names) }
        var out: [String] = []
        for i in 0..<max(0, OPENSSL_sk_num(names)) {
            guard let entry = OPENSSL_sk_value(names, i) else { continue }
            var length: Int32 = 0
            guard let bytes = gw_general_name_dns(entry.assumingMemoryBound(to: GENERAL_NAME.self), &length),
                  length > 0 else { continue }
            let buffer = UnsafeRawBufferPointer(start: bytes, count: Int(length))
            out.append(String(decoding: buffer, as: UTF8.self).lowercased())
        }
        return out
    }

    /// The subject as an RFC 4514 string ("CN=client,O=Example"), UTF-8 kept as is.
    var subject: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, X509_get_subject_name(pointer), 0, gw_xn_flags_rfc4514()) >= 0 else {
            OpenSSLErrorQueue.clear()
            return ""
        }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = gw_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// SHA-256 of the DER certificate (RFC 8705 §3.1 `x5t#S256`), 32 bytes.
    var sha256: [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &out, &length) == 1 else {
            OpenSSLErrorQueue.clear()
            return []
        }
        return Array(out.prefix(Int(length)))
    }

    /// End of the validity period (RFC 5280 §4.1.2.5), seconds since 1970.
    var notAfter: Double? { Self.seconds(X509_get0_notAfter(pointer)) }
    /// Start of the validity period, seconds since 1970.
    var notBefore: Double? { Self.seconds(X509_get0_notBefore(pointer)) }

    private static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Double? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return Double(timegm(&parts))
    }
}
