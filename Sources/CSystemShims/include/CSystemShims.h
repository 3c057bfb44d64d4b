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

#endif
