import Foundation
import GatewayHTTP
import GatewayTracing
import W3CTraceContext
import XCTest

/// The OTLP/JSON body and the bounded queue in front of the exporter.
final class SpanExportTests: XCTestCase {
    func exchange(upstream: Bool, status: Int = 200, reason: String = "ok", target: String = "/orders/1?x=\"q\"") -> FinishedExchange {
        var ids = TraceIDGenerator(seed: 7)
        let trace = RequestTrace.derive(from: [HTTPField(name: "traceparent", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                                               HTTPField(name: "tracestate", value: "a=1")],
                                        ids: &ids, sampler: .off)
        return FinishedExchange(trace: trace, method: "GET", target: target, status: status, route: "orders",
                                decision: "allow", reason: reason, subject: "alice", requestID: "r-1", clientAddress: "127.0.0.1",
                                startNanos: 1_000_000_000, endNanos: 1_005_000_000,
                                upstreamStartNanos: upstream ? 1_001_000_000 : nil, upstreamEndNanos: upstream ? 1_004_000_000 : nil)
    }

    func testEncodedBodyIsOTLPJSONWithServerAndClientSpans() throws {
        let e = exchange(upstream: true)
        let body = OTLPJSONEncoder.encode([e, exchange(upstream: false, status: 502, reason: "upstream_error")], serviceName: "gw \"edge\"")
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let rs = try XCTUnwrap((root["resourceSpans"] as? [[String: Any]])?.first)
        let resource = try XCTUnwrap((rs["resource"] as? [String: Any])?["attributes"] as? [[String: Any]])
        XCTAssertEqual((resource.first?["value"] as? [String: Any])?["stringValue"] as? String, "gw \"edge\"")
        let spans = try XCTUnwrap(((rs["scopeSpans"] as? [[String: Any]])?.first?["spans"]) as? [[String: Any]])
        XCTAssertEqual(spans.count, 3)
        let server = spans[0], client = spans[1], failed = spans[2]
        XCTAssertEqual(server["traceId"] as? String, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(server["parentSpanId"] as? String, "00f067aa0ba902b7")
        XCTAssertEqual(server["spanId"] as? String, "\(e.trace.serverSpanID)")
        XCTAssertEqual(server["kind"] as? Int, 2)
        XCTAssertEqual(server["name"] as? String, "GET orders")
        XCTAssertEqual(server["traceState"] as? String, "a=1")
        XCTAssertEqual(server["startTimeUnixNano"] as? String, "1000000000")
        XCTAssertEqual(server["endTimeUnixNano"] as? String, "1005000000")
        XCTAssertEqual(client["kind"] as? Int, 3)
        XCTAssertEqual(client["parentSpanId"] as? String, "\(e.trace.serverSpanID)")
        XCTAssertEqual(client["spanId"] as? String, "\(e.trace.clientSpanID)")
        XCTAssertEqual(client["startTimeUnixNano"] as? String, "1001000000")
        func attrs(_ s: [String: Any]) -> [String: String] {
            var d: [String: String] = [:]
            for a in (s["attributes"] as? [[String: Any]]) ?? [] {
                let v = a["value"] as? [String: Any]
                d[a["key"] as! String] = (v?["stringValue"] as? String) ?? (v?["intValue"] as? String)
            }
            return d
        }
        XCTAssertEqual(attrs(server)["url.path"], "/orders/1")
        XCTAssertEqual(attrs(server)["url.query"], "x=\"q\"")
        XCTAssertEqual(attrs(server)["enduser.id"], "alice")
        XCTAssertEqual(attrs(server)["http.response.status_code"], "200")
        XCTAssertNil((server["status"] as? [String: Any])?["code"], "2xx: status unset")
        XCTAssertEqual(failed["kind"] as? Int, 2, "not forwarded: a server span only")
        XCTAssertEqual((failed["status"] as? [String: Any])?["code"] as? Int, 2)
        XCTAssertEqual(attrs(failed)["gateway.reason"], "upstream_error")
    }

    func testTheQueueIsBoundedAndSignalsFullBatches() {
        var q = SpanQueue(capacity: 5, batchSize: 2)
        XCTAssertEqual(q.offer(exchange(upstream: true)), .queued)
        XCTAssertEqual(q.offer(exchange(upstream: true)), .batchReady)
        XCTAssertEqual(q.offer(exchange(upstream: true)), .queued)
        XCTAssertEqual(q.offer(exchange(upstream: true)), .queued)
        XCTAssertEqual(q.offer(exchange(upstream: true)), .queued)
        XCTAssertEqual(q.offer(exchange(upstream: true)), .full)
        XCTAssertEqual(q.count, 5)
        XCTAssertEqual(q.takeBatch().count, 2)
        XCTAssertEqual(q.takeBatch().count, 2)
        XCTAssertEqual(q.count, 1)
        XCTAssertEqual(q.offer(exchange(upstream: false)), .batchReady, "a whole batch waits again")
        XCTAssertEqual(q.offer(exchange(upstream: false)), .queued)
        XCTAssertEqual(q.takeBatch().map(\.spanCount), [2, 1])
        XCTAssertEqual(q.takeBatch().map(\.spanCount), [1])
        XCTAssertEqual(q.takeBatch().count, 0)
    }
}
