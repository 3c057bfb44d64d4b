#include "CSystemShims.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void release_chan_trim_heap(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
