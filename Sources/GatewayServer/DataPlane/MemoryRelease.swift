/// Returning freed heap memory to the system.
enum MemoryRelease {
    /// glibc's malloc_trim(0): releases free memory at the top of the heap and whole free
    /// pages inside every arena (madvise). Its result (whether anything was released) is
    /// not actionable.
    static func trim() {
        #if os(Linux)
        if gateway_malloc_trim(0) == 0 { /* nothing to release */ }
        #endif
    }
}

#if os(Linux)
/// `int malloc_trim(size_t pad)` from glibc's <malloc.h>, which the Glibc module does not
/// export.
@_silgen_name("malloc_trim")
private func gateway_malloc_trim(_ pad: Int) -> Int32
#endif
