import GatewayCore
import GatewayJOSE
import GatewayPolicy
import GatewayServer

/// Loading a fixture's signing keys: PEM files and HMAC secrets from the environment.
enum FixtureKeys {
    /// - Throws: `ConfigError` at the key's entry when the file cannot be read, the secret is
    ///   missing or malformed, or the key does not fit its `alg`.
    static func load(_ key: PolicyFixture.Key, environment: [String: String]) throws(ConfigError) -> PolicyCaseRunner.LoadedKey {
        func fail(_ message: String) -> ConfigError { ConfigError(location: key.location, message: "key `\(key.name)`: \(message)") }
        let signing: SigningKey
        switch key.source {
        case .privateKeyFile(let path):
            let bytes: [UInt8]
            do { bytes = try KeyFiles.read(path) } catch { throw fail("cannot read \(path): \(error.reason)") }
            do { signing = try SigningKey.privateKeyPEM(bytes) } catch {
                throw fail("\(path): \(GatewayRuntime.describe(error))")
            }
        case .secretEnv(let name, let encoding):
            guard var text = environment[name], !text.isEmpty else { throw fail("environment variable \(name) is not set") }
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            var secret = Array(text.utf8)
            if encoding != .raw {
                if encoding == .base64 {
                    text = String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
                    while text.hasSuffix("=") { text.removeLast() }
                }
                guard let decoded = Base64URL.decode(Substring(text)) else { throw fail("\(name) is not valid \(encoding.rawValue)") }
                secret = decoded
            }
            signing = SigningKey.hmac(secret)
        }
        guard signing.fits(key.algorithm) else { throw fail("the key does not fit \(key.algorithm.rawValue)") }
        return PolicyCaseRunner.LoadedKey(key: signing, algorithm: key.algorithm, keyID: key.keyID)
    }
}
