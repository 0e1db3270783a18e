/// Idle easy handles kept for later transfers (saves a curl_easy_init + curl_easy_cleanup
/// per request). Fixed capacity; a handle offered when full is freed.
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

    /// Keeps `handle` (reset to defaults) for later, or frees it when the pool is full.
    mutating func keep(_ handle: consuming CurlEasyHandle) {
        guard count < capacity else { return }
        handle.reset()
        (slots + count).initialize(to: handle)
        count += 1
    }
}
