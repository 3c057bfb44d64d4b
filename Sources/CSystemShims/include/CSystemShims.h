#ifndef C_SYSTEM_SHIMS_H
#define C_SYSTEM_SHIMS_H

/// Returns memory freed by the process to the system where the C library supports it (glibc's
/// malloc_trim); a no-op elsewhere. Called after a reload, whose parse leaves large freed arenas.
void release_chan_trim_heap(void);

/// Lowers the scheduling priority (raises the nice value by `increment`) of the calling thread only;
/// Linux applies nice values per thread. Returns 0 on success, -1 where unsupported or refused.
int release_chan_lower_thread_priority(int increment);

#endif
