#include "CSystemShims.h"

#include <string.h>

// A file of its own: <linux/tcp.h> declares `struct tcp_info` as the kernel has it, and must not meet
// glibc's <netinet/tcp.h>, which declares a shorter one under the same name.
#if defined(__linux__)
#include <stddef.h>
#include <linux/tcp.h>

_Static_assert(sizeof(struct tcp_info) <= sizeof(((release_chan_tcp_info *)0)->bytes), "release_chan_tcp_info is too small");

unsigned long long release_chan_tcp_bytes_acked(const release_chan_tcp_info *info) {
    __u64 value;
    memcpy(&value, info->bytes + offsetof(struct tcp_info, tcpi_bytes_acked), sizeof value);
    return value;
}
#else
unsigned long long release_chan_tcp_bytes_acked(const release_chan_tcp_info *info) {
    (void)info;
    return 0;
}
#endif
