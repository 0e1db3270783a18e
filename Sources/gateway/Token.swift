import ArgumentParser
import GatewayCore
import GatewayJOSE
import GatewayPolicy
import GatewayServer

#if canImport(Glibc)
import Glibc
#endif

/// `gateway token`: local token tools.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint or decode tokens for local testing.",
        subcommands: [Mint.self, Decode.self])

    /// `gateway token mint`: signs a token with a private key (or HMAC secret file).
    struct Mint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a token for local testing and print it.",
            discussion: """
                --key is a PEM private key (PKCS#8) for RS*/PS*/ES*/EdDSA, or for HS* a file holding \
                the HMAC secret: raw bytes, or base64/base64url with --key-encoding (as the issuer's \
                secret_encoding). Line breaks at the end of the file are dropped, as the shell's \
                $(cat FILE) drops them, so CORP_SECRET="$(cat FILE)" gives the gateway the same secret.

                A --claim value is read as JSON when it parses (numbers, arrays, booleans, quoted \
                strings), else as a string. iat and exp come from now and --ttl unless given.

                Example:
                  gateway token mint --key keys/rsa.pem --alg RS256 --kid rsa-1 \\
                    --claim iss=https://auth.example.com/ --claim aud=orders-api \\
                    --claim sub=alice --claim 'scope=read:orders' --ttl 1h
                  gateway token mint --key Tests/Fixtures/vectors/hmac.secret \\
                    --key-encoding base64url --alg HS256 \\
                    --claim iss=https://internal.example/ --claim sub=svc
                """)

        @Option(help: "Private key PEM file (or HMAC secret file for HS*).") var key: String
        @Option(help: "JWS algorithm: \(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")).") var alg: String
        @Option(help: "Key ID to put in the header.") var kid: String?
        @Option(name: .customLong("claim"), help: "A claim as name=value (repeatable).") var claims: [String] = []
        @Option(help: "Lifetime, e.g. 30s, 10m, 1h, 24h.") var ttl: String = "1h"
        @Option(help: "For HS*: how the key file holds the secret: raw (its bytes), base64 or base64url (as secret_encoding).")
        var keyEncoding: String = "raw"

        func validate() throws {
            if JWSAlgorithm(rawValue: alg) == nil { throw ValidationError("unknown --alg \(alg)") }
            if (try? ConfigScalars.duration(ttl)) == nil { throw ValidationError("bad --ttl \(ttl) (use e.g. 30s, 10m, 1h)") }
            for c in claims where !c.contains("=") { throw ValidationError("--claim needs name=value: \(c)") }
            if !["raw", "base64", "base64url"].contains(keyEncoding) {
                throw ValidationError("--key-encoding must be raw, base64 or base64url")
            }
        }

        func run() throws {
            let algorithm = JWSAlgorithm(rawValue: alg)!
            let bytes: [UInt8]
            do { bytes = try KeyFiles.read(key) } catch {
                printError("gateway: cannot read key file \(key): \(error.reason)")
                throw ExitCode(1)
            }
            let signingKey: SigningKey
            do {
                if alg.hasPrefix("HS") {
                    var secret = bytes
                    while let last = secret.last, last == 0x0A || last == 0x0D { secret.removeLast() }
                    if keyEncoding != "raw" {
                        var text = String(decoding: secret, as: UTF8.self)
                        if keyEncoding == "base64" {
                            text = String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
                            while text.hasSuffix("=") { text.removeLast() }
                        }
                        guard let decoded = Base64URL.decode(Substring(text)) else {
                            printError("gateway: \(key) is not valid \(keyEncoding)")
                            throw ExitCode(1)
                        }
                        secret = decoded
                    }
                    // The same minimum the gateway enforces when it loads the secret.
                    _ = try KeySet.hmacSecret(secret, keyID: nil, algorithms: [algorithm])
                    signingKey = SigningKey.hmac(secret)
                } else {
                    signingKey = try SigningKey.privateKeyPEM(bytes)
                }
            } catch {
                printError("gateway: \(key): \(GatewayRuntime.describe(error))")
                throw ExitCode(1)
            }
            var members: [(String, JSONValue)] = []
            for c in claims {
                let eq = c.firstIndex(of: "=")!
                let name = String(c[..<eq])
                let raw = String(c[c.index(after: eq)...])
                let value = (try? JSONReader.parse(Array(raw.utf8))) ?? .string(raw)
                members.removeAll { $0.0 == name }
                members.append((name, value))
            }
            let now = SystemClock().wholeWallSeconds
            if !members.contains(where: { $0.0 == "iat" }) { members.append(("iat", .number(now))) }
            if !members.contains(where: { $0.0 == "exp" }) {
                let lifetime = (try? ConfigScalars.duration(ttl)) ?? 3600
                members.append(("exp", .number(now + lifetime)))
            }
            do {
                print(try signingKey.sign(claims: .object(members), algorithm: algorithm, keyID: kid))
            } catch {
                printError("gateway: cannot sign: \(GatewayRuntime.describe(error))")
                throw ExitCode(1)
            }
        }
    }

    /// `gateway token decode`: prints header and claims WITHOUT verifying anything.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a token's header and claims, unverified.",
            discussion: "Examples:\n  gateway token decode eyJhbGciOi...\n  echo \"$TOKEN\" | gateway token decode -")

        @Argument(help: "The compact JWS, or - to read it from standard input.") var token: String

        func run() throws {
            let token = self.token == "-" ? (readLine(strippingNewline: true) ?? "") : self.token
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3,
                  let h = Base64URL.decode(parts[0]), let header = try? JSONReader.parse(h),
                  let p = Base64URL.decode(parts[1]), let claims = try? JSONReader.parse(p)
            else {
                printError("gateway: not a compact JWS with JSON header and payload")
                throw ExitCode(1)
            }
            print("UNVERIFIED: signature, issuer and expiry NOT checked")
            print("header: " + JSONWriter.serialize(header))
            print("claims: " + JSONWriter.serialize(claims))
        }
    }
}
