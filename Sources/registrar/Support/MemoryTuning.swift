/// Keeps glibc from handing freed memory back to the kernel after every burst of requests.
///
/// Intake allocates and frees a few kilobytes per delivery on several threads. With glibc's default trim
/// threshold each thread's arena shrinks as soon as its top chunk is free and grows again on the next request:
/// under load about a tenth of `serve`'s CPU went to `madvise`, page faults and TLB flushes. Holding up to
/// 32 MiB per arena costs nothing measurable in RSS at these sizes (the rss benchmark checks it).
enum MemoryTuning {
    static func keepFreedMemory() {
        #if os(Linux)
        // <malloc.h> is not in Swift's Glibc module; these values are glibc's ABI.
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        _ = glibcMallopt(trimThreshold, 32 << 20)
        // Setting the trim threshold turns off glibc's dynamic mmap threshold, so pin it at its usual ceiling.
        _ = glibcMallopt(mmapThreshold, 32 << 20)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
