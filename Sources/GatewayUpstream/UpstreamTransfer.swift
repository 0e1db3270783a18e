/// One in-flight upstream exchange, as the caller of `UpstreamLoop.start` sees it: either
/// a libcurl HTTP transfer (`CurlTransfer`) or an exchange the gateway frames itself on a
/// connection libcurl made (`DirectExchange`); the object is the exchange itself, so
/// starting one allocates one object.
///
/// Every method must be called on the loop's queue. Events go to the delegate on that
/// queue: at most one `didReceiveHead`, then body bytes, then exactly one `didComplete`
/// — unless `cancel()` was called, after which the delegate hears nothing more.
///
/// `@unchecked Sendable`: all mutable state is only touched on the loop's queue; the type
/// is Sendable only so that blocks scheduled on that queue can capture it.
public class UpstreamTransfer: @unchecked Sendable {
    let loop: UpstreamLoop
    /// The libcurl or system failure that ended the transfer, as translated (nil on success,
    /// or when the failure was our own: a bad response head, a request body problem).
    var callError: UpstreamCallError?

    /// Only the two kinds above exist.
    init(loop: UpstreamLoop) {
        self.loop = loop
    }

    // MARK: - Public control

    /// After `fillRequestBody` returned `.pause`, there is more request body.
    /// The transfer continues on a later queue turn (never from inside this call).
    public func resumeSending() {
        preconditionFailure("every transfer is a CurlTransfer or a DirectExchange")
    }

    /// After `didReceiveBody` returned false, the delegate can take bytes again.
    /// The held bytes are offered again on a later queue turn (never from inside this call).
    public func resumeReceiving() {
        preconditionFailure("every transfer is a CurlTransfer or a DirectExchange")
    }

    /// Aborts; `didComplete(.cancelled)` is NOT called after cancel, nor any other
    /// delegate method. Safe from inside a delegate callback (the easy handle is then
    /// removed on the next queue turn). No effect once the transfer has completed.
    public func cancel() {
        preconditionFailure("every transfer is a CurlTransfer or a DirectExchange")
    }
}
