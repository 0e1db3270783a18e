#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor of the upstream client that this value alone closes (non-copyable:
/// one owner; `deinit` closes it). Used for the private duplicates through which
/// `SocketWatcher` watches libcurl's sockets.
struct UpstreamDescriptor: ~Copyable {
    let rawValue: Int32

    /// A close-on-exec duplicate of `fd` (F_DUPFD_CLOEXEC).
    init(duplicating fd: Int32) throws(UpstreamCallError) {
        rawValue = try UpstreamCallError.check(system: fcntl(fd, F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)")
    }

    deinit {
        // close(2) on Linux releases the descriptor even when it reports EINTR or EIO, so
        // there is nothing to retry; EBADF would mean someone else closed our descriptor.
        do throws(UpstreamCallError) {
            try UpstreamCallError.check(system: Glibc.close(rawValue), "close")
        } catch {
            assert(error.code != .system(errno: EBADF), "upstream descriptor closed twice: \(error)")
        }
    }

    /// Whether `other` names the same open socket as this descriptor (same device and inode).
    /// False when `other` is closed, even if its number was reused for something else.
    func isSameFile(as other: Int32) -> Bool {
        var theirs = stat()
        var ours = stat()
        do {
            try UpstreamCallError.check(system: fstat(other, &theirs), "fstat")
            try UpstreamCallError.check(system: fstat(rawValue, &ours), "fstat")
        } catch {
            return false  // EBADF for `other`: closed, so not the same socket any more
        }
        return theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino
    }
}
