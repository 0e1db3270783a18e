/// Idle easy handles kept for later transfers (saves a curl_easy_init + curl_easy_cleanup
/// per request, and after a clean finish the shared options as well). Fixed capacity; a
/// handle offered when full is freed.
struct CurlEasyHandlePool: ~Copyable {
    private let slots: UnsafeMutablePointer<CurlEasyHandle>
    let capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// A pooled handle, or a new one.
    mutating func take() throws(UpstreamCallError) -> CurlEasyHandle {
        guard count > 0 else { return try CurlEasyHandle() }
        count -= 1
        return (slots + count).move()
    }

    /// Keeps `handle` for later, or frees it when the pool is full. After a clean finish
    /// (`clean`: the transfer completed, nothing paused or cut short) the handle keeps its
    /// shared options and only lets go of the transfer; otherwise it is reset to defaults.
    mutating func keep(_ handle: consuming CurlEasyHandle, clean: Bool) {
        guard count < capacity else { return }
        if clean && handle.isConfigured {
            do throws(UpstreamCallError) {
                try handle.detachTransfer()
            } catch {
                handle.reset()
            }
        } else {
            handle.reset()
        }
        (slots + count).initialize(to: handle)
        count += 1
    }
}
