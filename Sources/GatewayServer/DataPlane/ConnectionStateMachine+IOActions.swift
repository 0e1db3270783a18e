/// The flow-control vocabulary of `ConnectionStateMachine`: water marks and the I/O actions
/// its flow events return (the events themselves are in `ConnectionStateMachine.swift`,
/// beside the state they change).
extension ConnectionStateMachine {
    /// High and low water marks (bytes) of one buffer: it turns full at `high` and has room
    /// again only at or below `low`.
    struct WaterMarks: Equatable {
        let high: Int
        let low: Int
        /// - Precondition: `0 <= low < high`.
        init(high: Int, low: Int) {
            precondition(low >= 0 && low < high, "water marks need 0 <= low < high")
            self.high = high
            self.low = low
        }
    }

    /// The water marks of the connection's three buffers.
    struct FlowLimits: Equatable {
        /// Unparsed input (one request head plus slack): reading pauses when full.
        var inbound: WaterMarks
        /// Request body bytes the upstream has not taken yet: reading pauses when full.
        var requestBody: WaterMarks
        /// Response bytes the client has not taken yet: the upstream transfer pauses.
        var outbound: WaterMarks
    }

    /// What the I/O side does after a flow event (several at once).
    struct IOActions: OptionSet, Equatable, CustomStringConvertible {
        let rawValue: UInt8
        /// Turn read interest on (and parse what is buffered).
        static let readOn = IOActions(rawValue: 1 << 0)
        /// Turn read interest off.
        static let readOff = IOActions(rawValue: 1 << 1)
        /// Turn write interest on: a write waits for the socket to become writable.
        static let armWrite = IOActions(rawValue: 1 << 2)
        /// Turn write interest off: nothing waits to be written.
        static let disarmWrite = IOActions(rawValue: 1 << 3)
        /// Pause the upstream transfer's response (refuse the offered bytes; they are
        /// offered again on resume).
        static let pauseReceiving = IOActions(rawValue: 1 << 4)
        /// Resume the upstream transfer's response.
        static let resumeReceiving = IOActions(rawValue: 1 << 5)
        /// Resume sending the request body upstream.
        static let resumeSending = IOActions(rawValue: 1 << 6)
        /// Write what is queued (on the next loop turn, outside the libcurl callback).
        static let flush = IOActions(rawValue: 1 << 7)

        var description: String {
            let names = ["readOn", "readOff", "armWrite", "disarmWrite", "pauseReceiving", "resumeReceiving",
                         "resumeSending", "flush"]
            return "[" + names.indices.filter { rawValue & (1 << $0) != 0 }.map { names[$0] }.joined(separator: ", ") + "]"
        }
    }

    /// The machine's water marks when none are given (the I/O side passes its own).
    static let defaultLimits = FlowLimits(inbound: WaterMarks(high: 128 * 1024, low: 64 * 1024),
                                          requestBody: WaterMarks(high: 256 * 1024, low: 64 * 1024),
                                          outbound: WaterMarks(high: 32 * 1024, low: 8 * 1024))
}
