internal import COpenSSL
internal import GatewayJOSE
import Foundation

/// One server certificate loaded from its files: the leaf, its intermediates and its
/// private key, checked to belong together. Immutable; shared by the contexts built from it.
final class TLSCertificate: @unchecked Sendable {
    let files: TLSServerConfiguration.CertificateFiles
    let leaf: X509Certificate
    let chain: [X509Certificate]
    /// Owned `EVP_PKEY` (freed in `deinit`); never printed or logged.
    let privateKey: OpaquePointer
    /// The leaf's subjectAltName DNS names, lowercased (selection by SNI, the 421 check).
    let names: [String]

    /// Largest certificate or key file read, in bytes.
    static let maxFileBytes = 1 << 20

    /// - Throws: `TLSConfigurationError` naming the file: unreadable, no PEM certificate,
    ///   no or an encrypted private key, or a key that does not match the certificate.
    init(files: TLSServerConfiguration.CertificateFiles) throws(TLSConfigurationError) {
        self.files = files
        let certificates = try Self.readCertificates(files.certificate)
        guard let first = certificates.first else {
            throw TLSConfigurationError(file: files.certificate, message: "no PEM certificate in the file")
        }
        let key = try Self.readPrivateKey(files.privateKey)
        guard X509_check_private_key(first.pointer, key) == 1 else {
            OpenSSLErrorQueue.clear()
            EVP_PKEY_free(key)
            throw TLSConfigurationError(
                file: files.privateKey, message: "private key does not match the certificate \(files.certificate)")
        }
        self.leaf = first
        self.chain = Array(certificates.dropFirst())
        self.privateKey = key
        self.names = first.dnsNames
    }

    deinit { EVP_PKEY_free(privateKey) }

    /// Every PEM certificate of `path`, in file order.
    static func readCertificates(_ path: String) throws(TLSConfigurationError) -> [X509Certificate] {
        let bytes = try readFile(path, what: "certificate")
        return bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return [] }
            defer { BIO_free(bio) }
            var out: [X509Certificate] = []
            while out.count < 32, let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                out.append(X509Certificate(taking: x509))
            }
            // The loop ends on "no start line" at the end of the file: not an error.
            OpenSSLErrorQueue.clear()
            return out
        }
    }

    /// The private key of `path` (PKCS#8, RSA or EC PEM, unencrypted).
    static func readPrivateKey(_ path: String) throws(TLSConfigurationError) -> OpaquePointer {
        let bytes = try readFile(path, what: "private key")
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            // A password callback that gives none: an encrypted key fails instead of prompting.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let key else {
            throw TLSConfigurationError(
                file: path, message: "not an unencrypted PEM private key (\(OpenSSLErrorQueue.take()))")
        }
        return key
    }

    static func readFile(_ path: String, what: String) throws(TLSConfigurationError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TLSConfigurationError(file: path, message: "cannot read the \(what) file: \(Self.problem(path))")
        }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maxFileBytes + 1) else {
            throw TLSConfigurationError(file: path, message: "cannot read the \(what) file: \(Self.problem(path))")
        }
        guard data.count <= maxFileBytes else {
            throw TLSConfigurationError(file: path, message: "the \(what) file is larger than \(maxFileBytes) bytes")
        }
        return [UInt8](data)
    }

    private static func problem(_ path: String) -> String {
        var st = stat()
        if stat(path, &st) != 0 { return String(cString: strerror(errno)) }
        if (st.st_mode & S_IFMT) == S_IFDIR { return "is a directory" }
        return "permission denied or unreadable"
    }
}
