#if canImport(Glibc)
import Glibc
#endif

/// read(2) and send(2) on a non-blocking stream socket, their errno convention translated
/// into a `TransportResult` in this one place (the plain transport and TLS's clear-text
/// path both use it).
public enum SocketCalls {
    /// One read(2): bytes, `.endOfInput` at EOF (a zero-length buffer reads nothing and is
    /// not EOF), `.wouldBlock(.readable)` on EAGAIN; EINTR is retried.
    public static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        while true {
            let n = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if n > 0 { return .transferred(n) }
            if n == 0 { return buffer.isEmpty ? .transferred(0) : .endOfInput }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock(.readable) }
            return .failed(.system(call: "read", errno: e))
        }
    }

    /// One send(2) with MSG_NOSIGNAL (a peer that went away is EPIPE here, never SIGPIPE):
    /// bytes taken (maybe fewer than offered), `.wouldBlock(.writable)` on EAGAIN; EINTR is
    /// retried. An empty buffer sends nothing.
    public static func send(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> TransportResult {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .transferred(0) }
        while true {
            let n = Glibc.send(descriptor, base, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .transferred(n) }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock(.writable) }
            return .failed(.system(call: "send", errno: e))
        }
    }
}
