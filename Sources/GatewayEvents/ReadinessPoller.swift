import CEpoll
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// What a descriptor is ready for.
public struct Readiness: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let readable = Readiness(rawValue: 1)
    public static let writable = Readiness(rawValue: 2)
}

/// Readiness of many descriptors, delivered on one serial queue through a single
/// `DispatchSourceRead` that watches a private epoll(7) set.
///
/// Why not one Dispatch source per descriptor: on Linux every source event is picked up by
/// Dispatch's manager thread, handed to a worker thread, and the source is re-armed through
/// the manager again after its handler ran, several thread hand-offs per event and at least
/// two events per proxied request. Here the one Dispatch source fires when any registered
/// descriptor is ready, and its handler takes every ready descriptor in a batch
/// (`epoll_wait` with a zero timeout, repeated while it finds work), so the hand-offs are
/// paid per batch, not per descriptor.
///
/// Registrations are level-triggered: a handler that leaves data unread is called again.
/// A descriptor with no interest is removed from the set, so a hang-up on a descriptor
/// nobody listens to cannot spin the loop.
///
/// `@unchecked Sendable`: touched on `queue` only (the source's handler targets it).
public final class ReadinessPoller: @unchecked Sendable {
    public let queue: DispatchQueue
    private let epollDescriptor: Int32
    private let source: DispatchSourceRead
    private var registrations: [UInt64: PollRegistration] = [:]
    private var nextID: UInt64 = 1
    private let events: UnsafeMutablePointer<epoll_event>
    /// Events taken per epoll_wait call.
    static let batchSize = 256
    /// epoll_wait calls per Dispatch event at most (then Dispatch fires again if work is left,
    /// so other work on the queue, timers included, is never starved).
    static let maxRounds = 16

    /// - Parameter queue: the serial queue every handler runs on.
    /// - Returns: nil when epoll_create1 fails (descriptor limit).
    public init?(queue: DispatchQueue) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { return nil }
        self.queue = queue
        self.epollDescriptor = fd
        self.events = .allocate(capacity: ReadinessPoller.batchSize)
        self.source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.drain() }
        // The epoll descriptor is closed only after Dispatch let go of it.
        let events = self.events
        source.setCancelHandler {
            close(fd)
            events.deallocate()
        }
        source.resume()
    }

    deinit {
        source.cancel()
    }

    /// Registers `fd` with no interest yet; call `setInterest` to start events.
    /// The handler runs on `queue` with what the descriptor is ready for (an error or a
    /// hang-up is reported as whatever the registration is interested in, so the handler's
    /// read or write sees it).
    /// - Parameters:
    ///   - fd: a non-blocking descriptor; it must stay open until `cancel()` is called.
    public func register(fd: Int32, handler: @escaping (Readiness) -> Void) -> PollRegistration {
        let id = nextID
        nextID &+= 1
        let registration = PollRegistration(fd: fd, id: id, poller: self, handler: handler)
        registrations[id] = registration
        return registration
    }

    fileprivate func control(_ op: Int32, _ registration: PollRegistration, _ mask: UInt32) -> Bool {
        var event = epoll_event()
        event.events = mask
        event.data.u64 = registration.id
        return epoll_ctl(epollDescriptor, op, registration.fd, &event) == 0
    }

    fileprivate func forget(_ registration: PollRegistration) {
        registrations.removeValue(forKey: registration.id)
    }

    private func drain() {
        for _ in 0..<ReadinessPoller.maxRounds {
            let n = Int(epoll_wait(epollDescriptor, events, Int32(ReadinessPoller.batchSize), 0))
            if n <= 0 { return }
            for i in 0..<n {
                let event = events[i]
                // A registration cancelled by an earlier handler in this batch is gone:
                // its id is never reused, so a stale event finds nothing.
                guard let registration = registrations[event.data.u64] else { continue }
                registration.deliver(event.events)
            }
        }
    }
}

/// One descriptor in a `ReadinessPoller`. Touched on the poller's queue only.
public final class PollRegistration: @unchecked Sendable {
    public let fd: Int32
    fileprivate let id: UInt64
    /// Strong: a live registration keeps its poller; `cancel()` breaks the cycle.
    private let poller: ReadinessPoller
    private var handler: ((Readiness) -> Void)?
    /// What the owner wants to hear about; the descriptor is in the epoll set exactly when
    /// this is not empty.
    public private(set) var interest: Readiness = []
    private var cancelled = false

    fileprivate init(fd: Int32, id: UInt64, poller: ReadinessPoller, handler: @escaping (Readiness) -> Void) {
        self.fd = fd
        self.id = id
        self.poller = poller
        self.handler = handler
    }

    /// Sets what events are delivered (one epoll_ctl when it changes; none when it does not).
    public func setInterest(_ wanted: Readiness) {
        guard !cancelled, wanted != interest else { return }
        let wasInSet = !interest.isEmpty
        interest = wanted
        if wanted.isEmpty {
            _ = poller.control(EPOLL_CTL_DEL, self, 0)
            return
        }
        var mask: UInt32 = 0
        if wanted.contains(.readable) { mask |= EPOLLIN.rawValue }
        if wanted.contains(.writable) { mask |= EPOLLOUT.rawValue }
        if wasInSet {
            _ = poller.control(EPOLL_CTL_MOD, self, mask)
        } else if !poller.control(EPOLL_CTL_ADD, self, mask) {
            // Failure (ENOMEM, a descriptor epoll cannot watch) is reported as readiness so the
            // owner's read or write meets the problem instead of waiting forever; the interest
            // stays empty, so the next setInterest tries the ADD again.
            interest = []
            poller.queue.async { [weak self] in
                guard let self, !self.cancelled else { return }
                self.handler?(wanted)
            }
        }
    }

    /// No more events, ever; the descriptor leaves the epoll set at once, so the caller may
    /// close it right after. Idempotent.
    public func cancel() {
        guard !cancelled else { return }
        cancelled = true
        if !interest.isEmpty { _ = poller.control(EPOLL_CTL_DEL, self, 0) }
        interest = []
        handler = nil
        poller.forget(self)
    }

    fileprivate func deliver(_ mask: UInt32) {
        var ready: Readiness = []
        if mask & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            ready = interest
        } else {
            if mask & EPOLLIN.rawValue != 0 { ready.insert(.readable) }
            if mask & EPOLLOUT.rawValue != 0 { ready.insert(.writable) }
            ready.formIntersection(interest)
        }
        if !ready.isEmpty { handler?(ready) }
    }
}
