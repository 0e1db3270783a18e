import Foundation
import GatewayCore

extension KeyMaterialProvider {
    /// Key files read with Foundation (tests may do I/O; the runtime itself does none).
    static func readingFiles(environment: [String: String] = [:], remoteKeys: RemoteKeyStoreProvider? = nil) -> KeyMaterialProvider {
        KeyMaterialProvider(environment: environment, readFile: { path throws(KeyFileError) in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw KeyFileError(reason: "No such file or directory")
            }
            return Array(data)
        }, remoteKeys: remoteKeys)
    }
}
