/// The idle connections of one `UpstreamPoolKey`, in the order they went idle: a reference
/// that requests to the key's origin and the key's connections hold, so that taking and
/// keeping a connection looks nothing up (see `UpstreamConnectionPool`).
///
/// Only touched on the loop's queue.
final class IdleConnectionList: @unchecked Sendable {
    let key: UpstreamPoolKey
    /// Not checked for exclusive access at run time: only `UpstreamConnectionPool` touches
    /// it, in methods that call nothing that could touch it again.
    var connections: [UpstreamConnection] = []

    init(key: UpstreamPoolKey) {
        self.key = key
    }
}
