#if canImport(Glibc)
import Glibc
#endif

/// The process's main thread once `serve` has started everything on Dispatch queues.
enum MainThread {
    /// Blocks the main thread for the rest of the process, waking only to run signal
    /// handlers (libdispatch's signal sources install one that re-raises into their queue).
    ///
    /// Not `dispatchMain()`: nothing runs on the main queue, and on Linux dispatchMain ends
    /// the main thread with pthread_exit and parks it in sigsuspend from inside a
    /// thread-local destructor, where valgrind 3.19 (used by `make bench-instructions`)
    /// crashes. A thread parked in pause(2) looks the same to the kernel and to signal delivery.
    static func park() -> Never {
        while true { pause() }
    }
}
