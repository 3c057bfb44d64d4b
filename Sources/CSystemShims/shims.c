#include "CSystemShims.h"

// <malloc.h> first: it pulls in <features.h>, which defines __GLIBC__. Testing __GLIBC__ before any libc
// header is included (as an earlier version did) is always false, and the trim silently did nothing.
#if defined(__linux__)
#include <malloc.h>
#endif

void release_chan_trim_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
