import CLibPQ

/// How the process's allocator hands memory back to the system.
public enum ProcessMemory {
    /// Buffers of wide rows (COPY data of TOASTed values, megabytes each) are mapped on their own and returned when
    /// freed, instead of staying in the heap once glibc's threshold has grown past them; and two arenas instead of one
    /// per thread keep freed memory from spreading across arenas. Elsewhere than glibc, nothing changes.
    public static func returnLargeBuffers() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 2 << 20)
        _ = mallopt(M_ARENA_MAX, 2)
        #endif
    }
}
