/// The finished exchanges waiting for export: a bounded FIFO (a ring of `capacity`
/// slots), so a collector that is slow or away costs at most `capacity` exchanges of memory.
/// A full queue refuses new exchanges (they are dropped and counted by the caller).
public struct SpanQueue: Sendable {
    public let capacity: Int
    /// Exchanges that make one export request.
    public let batchSize: Int
    private var slots: [FinishedExchange?]
    private var head = 0
    public private(set) var count = 0

    public init(capacity: Int, batchSize: Int) {
        precondition(capacity > 0 && batchSize > 0)
        self.capacity = capacity
        self.batchSize = min(batchSize, capacity)
        slots = Array(repeating: nil, count: capacity)
    }

    public enum Offer: Equatable, Sendable {
        /// Queued.
        case queued
        /// Queued, and a whole batch is now waiting: export without waiting for the timer.
        case batchReady
        /// Refused: the queue is full.
        case full
    }

    public mutating func offer(_ e: FinishedExchange) -> Offer {
        guard count < capacity else { return .full }
        slots[(head + count) % capacity] = e
        count += 1
        return count == batchSize ? .batchReady : .queued
    }

    /// Up to `batchSize` exchanges, oldest first.
    public mutating func takeBatch() -> [FinishedExchange] {
        let n = min(count, batchSize)
        var out: [FinishedExchange] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            out.append(slots[head]!)
            slots[head] = nil
            head = (head + 1) % capacity
        }
        count -= n
        return out
    }
}
