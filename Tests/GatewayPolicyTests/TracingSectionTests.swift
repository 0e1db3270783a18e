import GatewayPolicy
import XCTest

/// `tracing:` in gateway.yml.
final class TracingSectionTests: XCTestCase {
    static let base = """
        listen: {address: 0.0.0.0:80}
        upstreams: {u: {url: "http://u"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """

    func parse(_ tracing: String) throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: Self.base + "\n" + tracing, path: "gw.yml", environment: [:])
    }

    func errors(_ tracing: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: Self.base + "\n" + tracing, path: "gw.yml", environment: [:])
            XCTFail("expected errors")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    func testDefaultsAndTheTracesPath() throws {
        XCTAssertNil(try parse("").tracing)
        let t = try XCTUnwrap(try parse("tracing: {otlp_endpoint: \"http://collector:4318/\"}").tracing)
        XCTAssertEqual(t.tracesURL, "http://collector:4318/v1/traces")
        XCTAssertEqual(t.serviceName, "gateway")
        XCTAssertEqual(t.sampleRatio, 1.0)
        let full = try XCTUnwrap(try parse("tracing: {otlp_endpoint: \"https://otel.example/v1/traces\", sample_ratio: 0}").tracing)
        XCTAssertEqual(full.tracesURL, "https://otel.example/v1/traces")
        XCTAssertEqual(full.sampleRatio, 0)
    }

    func testInvalidValuesAreReportedWhereWritten() {
        XCTAssertEqual(errors("tracing: {service_name: gw}"), ["gw.yml:4:10: missing required key `otlp_endpoint` in `tracing` (the collector's OTLP/HTTP URL, e.g. http://collector:4318)"])
        let bad = errors("tracing: {otlp_endpoint: \"grpc://c:4317\", sample_ratio: 1.5, exporter: otlp}")
        XCTAssertEqual(bad.count, 3, "\(bad)")
        XCTAssertTrue(bad.contains { $0.contains("`tracing.otlp_endpoint`") && $0.contains("scheme must be http or https") }, "\(bad)")
        XCTAssertTrue(bad.contains { $0.contains("`tracing.sample_ratio` must be a number from 0 to 1, not `1.5`") }, "\(bad)")
        XCTAssertTrue(bad.contains { $0.contains("exporter") }, "\(bad)")
        XCTAssertEqual(errors("tracing: {otlp_endpoint: \"http://c\", sample_ratio: -0.5}").count, 1)
    }
}
