import GatewayJOSE

/// The `TokenError` a throwing call produced, nil when it returned (a different error
/// type also gives nil, which the callers' equality assertions then report).
func tokenError(_ body: () throws -> Void) -> TokenError? {
    do { try body(); return nil } catch { return error as? TokenError }
}

/// The `KeyLoadError` a throwing call produced, nil when it returned.
func keyLoadError(_ body: () throws -> Void) -> KeyLoadError? {
    do { try body(); return nil } catch { return error as? KeyLoadError }
}
