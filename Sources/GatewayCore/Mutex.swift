#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The gateway's one lock: a `pthread_mutex_t` allocated on the heap, so it never moves.
/// (A mutex stored in a Swift property may be moved or copied by the compiler, and
/// `&property` passes a temporary, so locking it in place is undefined behaviour.)
/// Not recursive: `withLock` must not be re-entered from `body` on the same instance.
public final class Mutex: @unchecked Sendable {
    private let m: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(m, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(m)
        m.deinitialize(count: 1)
        m.deallocate()
    }

    /// Runs `body` holding the lock; the lock is released when `body` returns or throws.
    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}
