import ArgumentParser
import GatewayJOSE
import GatewayServer

/// `gateway jwks`: a JWK Set (public parts only) for PEM keys.
struct Jwks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwks",
        abstract: "Print a JWK Set (public parts only) for PEM keys: for jwks_file or a test identity provider.",
        discussion: """
            Each --key is a PEM public key (BEGIN PUBLIC KEY) or private key (RSA ≥ 2048 bits,
            EC P-256/P-384/P-521, Ed25519); only public members are written, never a private one.
            The n-th --kid names the n-th key: give one per key (tokens name their key by kid,
            and `gateway token mint --kid` sets it), or none.
            HMAC secrets have no public part: use secret_env for them.

            Examples:
              openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out es256.pem
              gateway jwks --key es256.pem --kid corp-2026 > keys/jwks.json
              gateway jwks --key old.pub.pem --kid corp-2025 --key new.pem --kid corp-2026
            """)

    @Option(name: .customLong("key"), help: "A PEM key file (repeat for several keys).") var keys: [String] = []
    @Option(name: .customLong("kid"), help: "Key ID for the key at the same position (repeat).") var kids: [String] = []

    func validate() throws {
        if keys.isEmpty { throw ValidationError("give at least one --key PATH") }
        if !kids.isEmpty && kids.count != keys.count {
            throw ValidationError("give one --kid per --key (\(keys.count) keys, \(kids.count) key IDs), or none")
        }
        if Set(kids).count != kids.count { throw ValidationError("each --kid must be different") }
    }

    func run() throws {
        var entries: [JSONValue] = []
        for (index, path) in keys.enumerated() {
            let bytes: [UInt8]
            do { bytes = try KeyFiles.read(path) } catch {
                printError("gateway: cannot read key file \(path): \(error.reason)")
                throw ExitCode(1)
            }
            do {
                entries.append(try PublicJWK.fromPEM(bytes, keyID: kids.isEmpty ? nil : kids[index]))
            } catch {
                switch error { case .invalid(let why): printError("gateway: \(path): \(why)") }
                throw ExitCode(1)
            }
        }
        print(JSONWriter.serialize(.object([("keys", .array(entries))])))
    }
}
