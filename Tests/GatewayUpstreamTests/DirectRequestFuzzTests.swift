import GatewayHTTP
import GatewayTestSupport
import XCTest
@testable import GatewayUpstream

/// The upstream head written in one pass (and again at its exact size when the first
/// guess is short) equals the head written field by field, for random methods, paths and
/// fields; any byte that would let a client or a claim inject a line is refused.
final class DirectRequestFuzzTests: XCTestCase {
    private func make(_ method: String, _ url: String, _ fields: [HTTPField]) throws -> DirectRequest? {
        var origin: UpstreamOrigin?
        return try DirectRequest.make(UpstreamRequest(method: method, url: url, fields: fields, body: .none,
                                                      connectTimeout: 1, timeout: 1, tls: nil), origin: &origin)
    }

    /// The head a field-by-field writer gives, or nil when a field is not valid HTTP.
    private func reference(_ method: String, _ path: String, _ fields: [(name: [UInt8], value: [UInt8])]) -> [UInt8]? {
        var out = Array("\(method) \(path.isEmpty ? "/" : path) HTTP/1.1\r\n".utf8)
        let framing: Set<String> = ["content-length", "transfer-encoding", "expect"]
        var lines: [UInt8] = []
        var hostGiven = false
        for f in fields {
            guard !f.name.isEmpty, f.name.allSatisfy(HTTPSyntax.isTokenChar) else { return nil }
            let lower = String(decoding: f.name, as: UTF8.self).lowercased()
            if framing.contains(lower) { continue }
            guard f.value.allSatisfy(HTTPSyntax.isFieldValueByte) else { return nil }
            if lower == "host" { hostGiven = true }
            lines += f.name + (f.value.isEmpty ? [0x3A] : [0x3A, 0x20]) + f.value + [0x0D, 0x0A]
        }
        if !hostGiven { out += Array("Host: up.internal:8080\r\n".utf8) }
        out += lines
        if method == "POST" || method == "PUT" || method == "PATCH" { out += Array("Content-Length: 0\r\n".utf8) }
        return out + [0x0D, 0x0A]
    }

    private func check(_ method: String, _ path: String, _ fields: [(name: [UInt8], value: [UInt8])],
                       _ label: String) throws {
        // Half of the fields as ranges of one array (as parsed), half as Strings (as built).
        var all: [UInt8] = []
        var made: [HTTPField] = []
        for (k, f) in fields.enumerated() {
            if k % 2 == 0 || String(validating: f.name, as: UTF8.self) == nil
                || String(validating: f.value, as: UTF8.self) == nil {
                let start = all.count
                all += f.name + f.value
                made.append(HTTPField(bytes: all, name: start..<start + f.name.count,
                                      value: start + f.name.count..<start + f.name.count + f.value.count))
            } else {
                made.append(HTTPField(name: String(decoding: f.name, as: UTF8.self), value: String(decoding: f.value, as: UTF8.self)))
            }
        }
        // Fields made from earlier snapshots of `all` keep their own bytes.
        let expected = reference(method, path, fields)
        if let expected {
            let r = try make(method, "http://up.internal:8080" + path, made)
            XCTAssertEqual(r?.head, expected, label)
        } else {
            XCTAssertThrowsError(try make(method, "http://up.internal:8080" + path, made), label)
        }
    }

    func testRandomHeadsEqualTheFieldByFieldHead() throws {
        var rng = SeededGenerator(state: 0xD1EC7)
        let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "M"]
        let bad: [UInt8] = [0x0D, 0x0A, 0x00, 0x7F, 0x01, 0x1F]
        let names = ["Host", "host", "Content-Length", "Transfer-Encoding", "Expect", "X-A", "Authorization", "X"]
        for iteration in 0..<3000 {
            let method = methods.randomElement(using: &rng)!
            let path = "/" + String(repeating: "p", count: Int.random(in: 0...120, using: &rng)) + (Bool.random(using: &rng) ? "?q=1" : "")
            var fields: [(name: [UInt8], value: [UInt8])] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                var name = Array((Int.random(in: 0...3, using: &rng) == 0 ? names.randomElement(using: &rng)!
                                  : "X-" + String(repeating: "n", count: Int.random(in: 0...60, using: &rng))).utf8)
                var value = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
                if Int.random(in: 0..<20, using: &rng) == 0, !value.isEmpty {
                    value[Int.random(in: 0..<value.count, using: &rng)] = bad.randomElement(using: &rng)!
                }
                if Int.random(in: 0..<40, using: &rng) == 0 {
                    name[Int.random(in: 0..<name.count, using: &rng)] = [0x20, 0x3A, 0x0D, 0x0A, 0x00].randomElement(using: &rng)!
                }
                if Int.random(in: 0..<10, using: &rng) == 0 { value += [0xC3, 0xA9] }
                fields.append((name, value))
            }
            try check(method, path, fields, "case \(iteration)")
        }
    }

    /// Fields around the first pass's guess (96 bytes per field): short by one, exact, over.
    func testHeadsAroundTheSizeGuess() throws {
        for count in 1...4 {
            for lineBytes in 80...110 {
                for method in ["GET", "POST"] {
                    for hostGiven in [false, true] {
                        var fields: [(name: [UInt8], value: [UInt8])] = []
                        for k in 0..<count {
                            let name = Array("X-\(k)".utf8)
                            let valueLength = max(0, lineBytes - name.count - 4)
                            fields.append((name, Array(repeating: UInt8(ascii: "v"), count: valueLength)))
                        }
                        if hostGiven { fields.append((Array("Host".utf8), Array("given.example".utf8))) }
                        fields.append((Array("Content-Length".utf8), Array(repeating: UInt8(ascii: "9"), count: lineBytes)))
                        try check(method, "/", fields, "\(count) x \(lineBytes) \(method) host \(hostGiven)")
                    }
                }
            }
        }
    }

    func testEmptyValuesAndManyFields() throws {
        var fields: [(name: [UInt8], value: [UInt8])] = []
        for k in 0..<500 { fields.append((Array("X-\(k)".utf8), k % 3 == 0 ? [] : Array("v\(k)".utf8))) }
        try check("GET", "/many", fields, "many")
        try check("PUT", "", [(Array("X-E".utf8), [])], "empty")
    }
}
