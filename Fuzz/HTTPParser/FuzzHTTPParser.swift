// libFuzzer target for the strict HTTP/1.1 request parser (`make fuzz-http`).
//
// Compiled together with Sources/GatewayHTTP/*.swift as one module by swiftc
// `-sanitize=fuzzer,address`, so it is not part of the SwiftPM package or `make test`.
// Each input is fed to the parser twice: whole, and split at a point taken from the first
// byte (incremental parsing must give the same events). Every request-target the parser
// accepts also goes through `HTTPRequestTarget.form` and `PathNormalizer.normalize`.
// A crash, a sanitizer report, or a broken invariant (checked with `precondition`) is a bug.

/// What one parse run produced, for comparing the whole and split runs.
private enum Outcome: Equatable {
    case head(String, String, RequestBodyFraming)
    case body([UInt8])
    case end
    case error(Int)
}

/// Parses `input` delivered in `pieces` (cut points), keeping unconsumed bytes buffered like
/// `ClientConnection` does. Bounded: at most 4 × input size + 64 parser calls.
private func run(_ input: [UInt8], cuts: [Int]) -> [Outcome] {
    var parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: 4096, maxRequestLineBytes: 1024))
    var out: [Outcome] = []
    var buffer: [UInt8] = []
    var start = 0
    var fed = 0
    let boundaries = cuts.filter { $0 > 0 && $0 < input.count } + [input.count]
    var calls = 0
    for end in boundaries where end > fed {
        buffer.append(contentsOf: input[fed..<end])
        fed = end
        while calls < 4 * input.count + 64 {
            calls += 1
            let available = buffer.count - start
            let result: (event: HTTPParserEvent?, consumed: Int)
            do {
                result = try buffer.withUnsafeBytes { buf in
                    try parser.parse(UnsafeRawBufferPointer(rebasing: buf[start...]))
                }
            } catch {
                out.append(.error((error as? HTTPParseError)?.status ?? 0))
                return out
            }
            precondition(result.consumed >= 0 && result.consumed <= available, "consumed out of range")
            let base = start
            start += result.consumed
            guard let event = result.event else {
                if result.consumed == 0 { break }
                continue
            }
            switch event {
            case .head(let head):
                out.append(.head(head.method, head.target, head.framing))
                precondition(!head.target.isEmpty && !head.method.isEmpty, "empty method or target")
                if (try? HTTPRequestTarget.form(head.target)) == nil {
                    preconditionFailure("parser accepted a target it cannot classify")
                }
                if let normalized = try? PathNormalizer.normalize(head.target) {
                    precondition(normalized.path.hasPrefix("/"), "normalised path without leading slash")
                    precondition(!normalized.path.contains("/../") && !normalized.path.hasSuffix("/.."),
                                 "dot-segment left in a normalised path")
                }
            case .body(let range):
                precondition(range.lowerBound >= 0 && range.upperBound <= available, "body range out of bounds")
                let bytes = Array(buffer[(base + range.lowerBound)..<(base + range.upperBound)])
                // Merge adjacent body events so split runs compare equal.
                if case .body(let previous)? = out.last {
                    out[out.count - 1] = .body(previous + bytes)
                } else {
                    out.append(.body(bytes))
                }
            case .end:
                out.append(.end)
            }
        }
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = run(input, cuts: [])
    let cut = input.isEmpty ? 0 : Int(input[0]) * input.count / 256
    let split = run(input, cuts: [cut, cut + 1, cut + 7])
    // Both runs saw every byte, so they must agree event for event.
    precondition(whole == split, "split input gave different events")
    return 0
}
