import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

// Entry point. Exit codes (docs/operations.md, README command table): 0 success, 1 invalid config or input, 2 usage error.
do {
    var command = try GatewayCommand.parseAsRoot()
    try command.run()
} catch {
    let code = GatewayCommand.exitCode(for: error)
    if code == .validationFailure {
        let message = GatewayCommand.fullMessage(for: error)
        printError(message)
        exit(2)
    }
    GatewayCommand.exit(withError: error)
}
