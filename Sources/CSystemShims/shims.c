#include "CSystemShims.h"

// <malloc.h> first: it pulls in <features.h>, which defines __GLIBC__. Testing __GLIBC__ before any libc
// header is included (as an earlier version did) is always false, and the trim silently did nothing.
#if defined(__linux__)
#define _GNU_SOURCE
#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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
