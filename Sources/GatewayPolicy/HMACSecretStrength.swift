// Whether an HMAC secret could be guessed offline: anyone holding one token can test
// candidate secrets against its signature as fast as they can compute HMACs, and a match
// lets them mint tokens for any subject (RFC 8725 §3.5, RFC 7518 §3.2).
import Foundation

/// Judges an HMAC secret without ever showing it: the answers name the kind of weakness only.
public enum HMACSecretStrength {
    /// Least estimated entropy, in bits, a secret should have (the strength HS256 offers).
    public static let minimumBits = 128.0

    /// Secrets from public wordlists, samples and tutorials (compared ignoring case), such as
    /// those tried first by JWT cracking tools (jwt_tool's common-secrets list, hashcat).
    static let wellKnown: Set<String> = [
        "secret", "password", "changeme", "change-me", "change_me", "changeit", "default", "key", "test", "admin",
        "123456", "12345678", "1234567890", "qwerty", "letmein", "s3cr3t", "s3cret", "passw0rd", "jwt", "token",
        "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret", "a-string-secret-at-least-256-bits-long",
        "secretkey", "secret-key", "secret_key", "jwt_secret", "jwt-secret", "jwtsecret", "jwt_secret_key",
        "jwt-secret-key", "jwtsecretkey", "mysecret", "my-secret", "my_secret", "mysecretkey", "my-secret-key",
        "my_secret_key", "supersecret", "super-secret", "super_secret", "supersecretkey", "super-secret-key",
        "topsecret", "top-secret", "shhhhh", "shhhhhhared-secret", "keyboard cat", "notasecret", "not-a-secret",
        "your_jwt_secret", "your-jwt-secret", "your-secret-key", "your_secret_key", "yoursecretkey",
        "thisismysecretkey", "this-is-my-secret", "thisisasecret", "this-is-a-secret", "hmac-secret", "hmacsecret",
        "signing-key", "signingkey", "secret123", "secret1234", "password123", "development", "production",
        "devsecret", "dev-secret", "testsecret", "test-secret", "test_secret", "example", "examplesecret",
        "replace-me", "replaceme", "change-this", "changethis", "change_this_secret", "change-this-secret",
        "default-secret", "defaultsecret", "fake-secret", "dummy", "dummysecret", "sample", "samplesecret",
        "your-256-bit-secret-your-256-bit", "secretsecretsecretsecretsecretse", "abcdefghijklmnopqrstuvwxyz",
        "abcdefghijklmnopqrstuvwxyz0123456789", "0123456789abcdefghijklmnopqrstuvwxyz",
    ]

    /// Words of five letters or more that mark a secret as written by a person (compared ignoring case).
    static let commonWords = [
        "secret", "password", "passw0rd", "changeme", "example", "default", "private", "signing", "admin",
        "qwerty", "letmein", "welcome", "sample", "dummy", "abcdef", "123456",
    ]

    /// Why `secret` is weak, as a phrase to follow "the secret ... " (never containing any
    /// of its bytes), or nil when it looks random enough.
    public static func weakness(_ secret: [UInt8]) -> String? {
        let text = String(decoding: secret, as: UTF8.self).lowercased()
        if wellKnown.contains(text) || wellKnown.contains(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return "is a well-known secret from public wordlists"
        }
        let distinct = Set(secret).count
        if distinct < 8 {
            return "uses fewer than 8 distinct bytes"
        }
        let printable = secret.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        if printable, commonWords.contains(where: { text.contains($0) }) {
            return "is built from common words or sequences"
        }
        if estimatedBits(secret) < minimumBits {
            return "has under \(Int(minimumBits)) bits of estimated entropy (its length and the characters it draws from)"
        }
        return nil
    }

    /// Length of the shortest repeating unit times the bits per byte of the smallest usual
    /// alphabet holding every byte (digits, hex, letters, alphanumerics, base64, printable
    /// ASCII, any byte): an upper bound for a person's choice, exact for a random one.
    static func estimatedBits(_ secret: [UInt8]) -> Double {
        let unit = shortestPeriod(secret)
        return Double(unit) * log2(Double(alphabetSize(secret)))
    }

    static func shortestPeriod(_ s: [UInt8]) -> Int {
        guard !s.isEmpty else { return 0 }
        for p in 1...s.count where (p..<s.count).allSatisfy({ s[$0] == s[$0 - p] }) { return p }
        return s.count
    }

    static func alphabetSize(_ s: [UInt8]) -> Int {
        func all(_ f: (UInt8) -> Bool) -> Bool { s.allSatisfy(f) }
        let digit: (UInt8) -> Bool = { (0x30...0x39).contains($0) }
        let lower: (UInt8) -> Bool = { (0x61...0x7A).contains($0) }
        let upper: (UInt8) -> Bool = { (0x41...0x5A).contains($0) }
        let lowerHex: (UInt8) -> Bool = { digit($0) || (0x61...0x66).contains($0) }
        let upperHex: (UInt8) -> Bool = { digit($0) || (0x41...0x46).contains($0) }
        if all(digit) { return 10 }
        if all(lowerHex) || all(upperHex) { return 16 }
        if all(lower) || all(upper) { return 26 }
        if all({ digit($0) || lower($0) }) || all({ digit($0) || upper($0) }) { return 36 }
        if all({ lower($0) || upper($0) }) { return 52 }
        if all({ digit($0) || lower($0) || upper($0) }) { return 62 }
        let base64: (UInt8) -> Bool = { digit($0) || lower($0) || upper($0) || [0x2B, 0x2F, 0x2D, 0x5F, 0x3D].contains($0) }
        if all(base64) { return 64 }
        if all({ $0 >= 0x20 && $0 < 0x7F }) { return 95 }
        return 256
    }
}
