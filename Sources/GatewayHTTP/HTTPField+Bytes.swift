extension HTTPField {
    /// Calls `body` with the name's and the value's bytes together (valid only inside
    /// `body`): one look at the storage where `withNameBytes` and `withValueBytes` take two,
    /// for writers that copy a whole field line.
    @inlinable
    public func withNameAndValueBytes<R>(
        _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        switch storage {
        case .text(let name, let value):
            return try Self.withUTF8(name) { n in try Self.withUTF8(value) { v in try body(n, v) } }
        case .slice(let bytes, let nameStart, let nameEnd, let valueStart, let valueEnd):
            return try bytes.withUnsafeBytes { all in
                try body(UnsafeRawBufferPointer(rebasing: all[Int(nameStart)..<Int(nameEnd)]),
                         UnsafeRawBufferPointer(rebasing: all[Int(valueStart)..<Int(valueEnd)]))
            }
        }
    }
}
