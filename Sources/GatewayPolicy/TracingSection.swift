// `tracing`: OTLP/HTTP span export (endpoint, service name, sampling ratio).

/// Reader of the `tracing` section of gateway.yml.
enum TracingSection {
    struct Draft {
        var endpoint: String?
        var serviceName: String?
        var sampleRatio: Double?
    }

    static let fields = FieldTable<Draft>([
        .key("otlp_endpoint", required: true, hint: " (the collector's OTLP/HTTP URL, e.g. http://collector:4318)",
             readEndpoint),
        .key("service_name") { b, e, d in d.serviceName = b.reader.string(e.value, path: e.path)?.value },
        .key("sample_ratio", readRatio),
    ])

    @Sendable static func readEndpoint(_ b: ConfigBuilder, _ e: Entry, _ d: inout Draft) {
        guard let s = b.reader.string(e.value, path: e.path) else { return }
        do {
            _ = try ConfigScalars.upstreamURL(s.value)
            d.endpoint = s.value
        } catch {
            if case .invalid(let reason) = error {
                b.reader.fail(s.location, "invalid URL `\(s.shown)` for `\(e.path)`: \(reason)")
            }
        }
    }

    /// A decimal number from 0 to 1 (`0`, `0.25`, `1.0`).
    @Sendable static func readRatio(_ b: ConfigBuilder, _ e: Entry, _ d: inout Draft) {
        guard let s = b.reader.scalar(e.value, path: e.path, expected: "a number from 0 to 1") else { return }
        let plain = s.value.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
        guard plain, let v = Double(s.value), v >= 0, v <= 1 else {
            b.reader.fail(e.value, "`\(e.path)` must be a number from 0 to 1, not `\(s.shown)`")
            return
        }
        d.sampleRatio = v
    }

    /// Nil when absent or invalid (reported).
    static func tracing(_ e: Entry, _ b: ConfigBuilder) -> TracingConfig? {
        var draft = Draft()
        guard fields.read(e.value, path: e.path, builder: b, into: &draft) != nil, let endpoint = draft.endpoint else { return nil }
        var config = TracingConfig(endpoint: endpoint)
        if let n = draft.serviceName { config.serviceName = n }
        if let r = draft.sampleRatio { config.sampleRatio = r }
        return config
    }
}
