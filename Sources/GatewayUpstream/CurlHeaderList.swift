internal import CCurl

/// The request header list handed to libcurl (CURLOPT_HTTPHEADER), built in memory this
/// value owns: one byte buffer of NUL-terminated lines and an array of `curl_slist` nodes
/// pointing into it. libcurl only reads the list while a transfer runs and never frees it,
/// so rebuilding it for the next request costs no allocation once the buffers are large
/// enough (unlike curl_slist_append: one node and one copy per line).
///
/// Non-copyable, owned by one `CurlEasyHandle`; freed after the handle (see its `deinit`).
struct CurlHeaderList: ~Copyable {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCapacity: Int
    private var byteCount = 0
    private var nodes: UnsafeMutablePointer<curl_slist>
    private var nodeCapacity: Int
    private(set) var lineCount = 0
    /// Where the line being written starts.
    private var lineStart = 0

    init() {
        byteCapacity = 1024
        bytes = .allocate(capacity: byteCapacity)
        nodeCapacity = 16
        nodes = .allocate(capacity: nodeCapacity)
    }

    deinit {
        bytes.deallocate()
        nodes.deallocate()
    }

    /// The list for CURLOPT_HTTPHEADER; nil when empty. Valid until the next `begin`.
    var list: UnsafeMutablePointer<curl_slist>? { lineCount > 0 ? nodes : nil }

    /// Empties the list and makes room for `lines` lines of `bytes` bytes in all (NULs
    /// included). Nothing may be appended beyond that: nodes point into the buffer, which
    /// must not move while the list is built.
    mutating func begin(bytes needed: Int, lines: Int) {
        byteCount = 0
        lineCount = 0
        lineStart = 0
        if needed > byteCapacity {
            bytes.deallocate()
            byteCapacity = max(needed, byteCapacity * 2)
            bytes = .allocate(capacity: byteCapacity)
        }
        if lines > nodeCapacity {
            nodes.deallocate()
            nodeCapacity = max(lines, nodeCapacity * 2)
            nodes = .allocate(capacity: nodeCapacity)
        }
    }

    mutating func append(_ byte: UInt8) {
        precondition(byteCount < byteCapacity, "header list over its reserved size")
        bytes[byteCount] = byte
        byteCount += 1
    }

    mutating func append(_ text: UnsafeRawBufferPointer) {
        precondition(byteCapacity - byteCount >= text.count, "header list over its reserved size")
        if let base = text.baseAddress {
            UnsafeMutableRawPointer(bytes + byteCount).copyMemory(from: base, byteCount: text.count)
        }
        byteCount += text.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Drops what was written since the last `endLine` (a field that is not sent after all).
    mutating func discardLine() {
        byteCount = lineStart
    }

    /// Terminates the current line (NUL) and links it as the list's next node.
    mutating func endLine() {
        append(0)
        precondition(lineCount < nodeCapacity, "header list over its reserved line count")
        let node = nodes + lineCount
        node.initialize(to: curl_slist(data: UnsafeMutableRawPointer(bytes + lineStart).assumingMemoryBound(to: CChar.self), next: nil))
        if lineCount > 0 { (node - 1).pointee.next = node }
        lineCount += 1
        lineStart = byteCount
    }
}
