#include "CSystemShims.h"

// <malloc.h> first: it pulls in <features.h>, which defines __GLIBC__. Testing __GLIBC__ before any libc
// header is included (as an earlier version did) is always false, and the trim silently did nothing.
#if defined(__linux__)
#define _GNU_SOURCE
#include <malloc.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/mman.h>
#else
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

void release_chan_trim_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

int release_chan_lower_thread_priority(int increment) {
#if defined(__linux__)
    // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value alone.
    pid_t thread = (pid_t)syscall(SYS_gettid);
    int current = getpriority(PRIO_PROCESS, (id_t)thread);
    return setpriority(PRIO_PROCESS, (id_t)thread, current + increment);
#else
    (void)increment;
    return -1;
#endif
}

int release_chan_scratch_file(const char *directory, const char *name, int *in_memory) {
#if defined(__linux__)
    if (directory != NULL) {
        int descriptor = open(directory, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (descriptor >= 0) {
            *in_memory = 0;
            return descriptor;
        }
    }
    *in_memory = 1;
    return memfd_create(name, MFD_CLOEXEC);
#else
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-XXXXXX", directory != NULL ? directory : "/tmp", name);
    int descriptor = mkstemp(path);
    if (descriptor >= 0) unlink(path);
    *in_memory = 0;
    return descriptor;
#endif
}

const void *release_chan_map_file(int descriptor, long length, int populate) {
    int flags = MAP_SHARED;
#if defined(__linux__)
    if (populate) flags |= MAP_POPULATE;
#else
    (void)populate;
#endif
    void *address = mmap(NULL, (size_t)length, PROT_READ, flags, descriptor, 0);
    return address == MAP_FAILED ? NULL : address;
}

void release_chan_unmap_file(const void *address, long length) {
    munmap((void *)address, (size_t)length);
}
