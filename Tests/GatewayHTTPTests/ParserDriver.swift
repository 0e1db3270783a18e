import XCTest
import GatewayHTTP

/// What a caller of the parser observes, with body bytes copied out.
enum Observed: Equatable, CustomStringConvertible {
    case head(HTTPRequestHead)
    case body([UInt8])
    case end

    var description: String {
        switch self {
        case .head(let h): "head(\(h.method) \(h.target) \(h.framing))"
        case .body(let b): "body(\(String(decoding: b, as: UTF8.self)))"
        case .end: "end"
        }
    }
}

/// The outcome of feeding a byte stream: the events seen and the error, if any.
struct Outcome: Equatable {
    var events: [Observed]
    var error: HTTPParseError?
}

/// Plays the role of the connection: keeps unconsumed bytes buffered, appends each
/// piece as it "arrives", and calls the parser per its contract.
struct ParserDriver {
    var parser: HTTPRequestParser
    var pending: [UInt8] = []
    var events: [Observed] = []

    init(limits: HTTPParserLimits = HTTPParserLimits()) {
        parser = HTTPRequestParser(limits: limits)
    }

    /// Feeds one piece; returns the error if the parser refused.
    mutating func feed(_ piece: [UInt8]) -> HTTPParseError? {
        pending.append(contentsOf: piece)
        // Bounded: each iteration consumes bytes or emits an event; 1M is far above any test.
        for _ in 0..<1_000_000 {
            let result: (event: HTTPParserEvent?, consumed: Int)
            do {
                result = try pending.withUnsafeBytes { raw in try parser.parse(raw) }
            } catch let error as HTTPParseError {
                return error
            } catch {
                XCTFail("untyped error \(error)")
                return .badRequest("untyped")
            }
            if let event = result.event {
                switch event {
                case .head(let h): events.append(.head(h))
                case .body(let r):
                    XCTAssertFalse(r.isEmpty, "empty body event")
                    XCTAssertLessThanOrEqual(r.upperBound, result.consumed, "body range beyond consumed")
                    events.append(.body(Array(pending[r])))
                case .end: events.append(.end)
                }
            }
            XCTAssertLessThanOrEqual(result.consumed, pending.count)
            pending.removeFirst(result.consumed)
            if result.consumed == 0 && result.event == nil { return nil }
        }
        XCTFail("parser did not settle")
        return nil
    }

    /// Events with adjacent body pieces merged, so differently split feeds compare equal.
    var mergedEvents: [Observed] {
        var out: [Observed] = []
        for e in events {
            if case .body(let b) = e, case .body(let prev)? = out.last {
                out[out.count - 1] = .body(prev + b)
            } else {
                out.append(e)
            }
        }
        return out
    }
}

/// Feeds `bytes` in the given pieces and returns what was observed.
func runPieces(_ pieces: [[UInt8]], limits: HTTPParserLimits = HTTPParserLimits()) -> Outcome {
    var driver = ParserDriver(limits: limits)
    for piece in pieces {
        if let error = driver.feed(piece) {
            return Outcome(events: driver.mergedEvents, error: error)
        }
    }
    return Outcome(events: driver.mergedEvents, error: nil)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// All at once.
func runWhole(_ s: String, limits: HTTPParserLimits = HTTPParserLimits()) -> Outcome {
    runPieces([bytes(s)], limits: limits)
}

/// One byte at a time.
func runBytewise(_ s: String, limits: HTTPParserLimits = HTTPParserLimits()) -> Outcome {
    runPieces(bytes(s).map { [$0] }, limits: limits)
}

/// Split in two at `offset`.
func runSplit(_ s: String, at offset: Int, limits: HTTPParserLimits = HTTPParserLimits()) -> Outcome {
    let b = bytes(s)
    return runPieces([Array(b[..<offset]), Array(b[offset...])], limits: limits)
}

/// The error `s` is refused with, fed whole (nil when accepted).
func refusal(_ s: String, limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseError? {
    runWhole(s, limits: limits).error
}

/// The one head parsed from `s`, or nil with a test failure.
func head(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> HTTPRequestHead? {
    let outcome = runWhole(s)
    XCTAssertNil(outcome.error, "unexpected refusal: \(String(describing: outcome.error))", file: file, line: line)
    guard case .head(let h)? = outcome.events.first else {
        XCTFail("no head", file: file, line: line)
        return nil
    }
    return h
}
