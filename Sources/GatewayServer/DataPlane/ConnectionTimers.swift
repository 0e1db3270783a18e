/// The deadlines of one client connection, one per role, so arming one never cancels
/// another (the body timeout cannot erase the write-progress timeout of the same exchange).
/// Times are seconds on a monotonic clock.
struct ConnectionTimers {
    /// What a deadline is for.
    enum Role: Int, CaseIterable, Sendable {
        /// The request head (or the first request of a new connection) must arrive in time.
        case header
        /// The request body must make progress while the gateway is reading it.
        case body
        /// A keep-alive connection with no request in progress.
        case idle
        /// After the last response's FIN: discard what the client still sends, then close.
        case linger
        /// Queued response bytes must make progress (a client that does not read).
        case writeProgress
    }

    private var deadlines: (Double, Double, Double, Double, Double) = (.infinity, .infinity, .infinity, .infinity, .infinity)

    /// The deadline of `role`, or nil when it is not scheduled.
    subscript(role: Role) -> Double? {
        let d = get(role)
        return d.isFinite ? d : nil
    }

    /// Schedules (or moves) the deadline of `role`.
    mutating func schedule(_ role: Role, at deadline: Double) { set(role, deadline) }

    mutating func cancel(_ role: Role) { set(role, .infinity) }

    mutating func cancelAll() { deadlines = (.infinity, .infinity, .infinity, .infinity, .infinity) }

    /// The earliest scheduled deadline (infinity when none is).
    var earliest: Double {
        min(deadlines.0, deadlines.1, deadlines.2, deadlines.3, deadlines.4)
    }

    /// Removes and returns the role with the earliest deadline at or before `now`.
    mutating func takeExpired(now: Double) -> Role? {
        var found: Role?
        var at = Double.infinity
        for role in Role.allCases {
            let d = get(role)
            if d <= now && d < at { found = role; at = d }
        }
        if let found { set(found, .infinity) }
        return found
    }

    private func get(_ role: Role) -> Double {
        switch role {
        case .header: deadlines.0
        case .body: deadlines.1
        case .idle: deadlines.2
        case .linger: deadlines.3
        case .writeProgress: deadlines.4
        }
    }

    private mutating func set(_ role: Role, _ value: Double) {
        switch role {
        case .header: deadlines.0 = value
        case .body: deadlines.1 = value
        case .idle: deadlines.2 = value
        case .linger: deadlines.3 = value
        case .writeProgress: deadlines.4 = value
        }
    }
}
