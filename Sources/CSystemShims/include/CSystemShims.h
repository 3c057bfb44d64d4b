#ifndef C_SYSTEM_SHIMS_H
#define C_SYSTEM_SHIMS_H

/// Returns memory freed by the process to the system where the C library supports it (glibc's
/// malloc_trim); a no-op elsewhere. Called after a reload, whose parse leaves large freed arenas.
void release_chan_trim_heap(void);

/// Lowers the scheduling priority (raises the nice value by `increment`) of the calling thread only;
/// Linux applies nice values per thread. Returns 0 on success, -1 where unsupported or refused.
int release_chan_lower_thread_priority(int increment);

/// Creates a file no other process can open and returns its descriptor, close-on-exec, or -1 with
/// errno set. Linux: an unnamed file in `directory` (`open` with `O_TMPFILE`) when `directory` is not
/// NULL and its file system supports that, else a file in memory (`memfd_create`, named `name`);
/// elsewhere an unlinked temporary file in `directory` (or /tmp). `*in_memory` tells which.
int release_chan_scratch_file(const char *directory, const char *name, int *in_memory);

/// `mmap` of a whole file, read-only and shared. With `populate` set, its pages are mapped in at once
/// where the system can (Linux: MAP_POPULATE), so they show in the process's resident memory.
/// NULL on failure.
const void *release_chan_map_file(int descriptor, long length, int populate);

/// `munmap` of a mapping made by `release_chan_map_file`.
void release_chan_unmap_file(const void *address, long length);

/// Room for Linux's `struct tcp_info`, to be filled by getsockopt(IPPROTO_TCP, TCP_INFO) (the kernel copies
/// at most its own struct's size, and the rest stays as passed in). Opaque: glibc's <netinet/tcp.h>
/// declares an older, shorter struct, so its fields are read with the functions below.
typedef struct {
    _Alignas(8) unsigned char bytes[512];
} release_chan_tcp_info;

/// `tcpi_bytes_acked` of `info`: how many bytes of the connection the peer has acknowledged (Linux 4.1
/// and later). 0 where the kernel does not report it, or off Linux.
unsigned long long release_chan_tcp_bytes_acked(const release_chan_tcp_info *info);

#endif
