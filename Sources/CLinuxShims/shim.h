// Linux system calls that Glibc does not wrap and Swift cannot reach (syscall(2) is variadic). Only
// <stdint.h> is included, so that no libc declaration becomes this module's in Swift's eyes.
#pragma once
#include <stdint.h>

extern long syscall(long number, ...);

/// openat2(2) (Linux 5.6, syscall 437 on every architecture) with RESOLVE_BENEATH (0x08) and
/// RESOLVE_NO_MAGICLINKS (0x02): `path`, symlinks included, must resolve inside `dirfd`. Returns the
/// descriptor, or -1 with errno (ENOSYS on older kernels, EXDEV when the path leads out).
static inline int provision_open_beneath(int dirfd, const char *path, uint64_t flags) {
    struct { uint64_t flags; uint64_t mode; uint64_t resolve; } how = { flags, 0, 0x08 | 0x02 };
    return (int)syscall(437, dirfd, path, &how, sizeof how);
}

extern int prctl(int option, ...);

/// prctl(PR_SET_PDEATHSIG, SIGKILL): the calling process is killed when its parent dies (1 and 9 are
/// the same on every Linux architecture). For test helpers that must never outlive their test.
static inline int provision_die_with_parent(void) {
    return prctl(1, 9);
}

extern int pipe2(int fds[2], int flags);

/// pipe2(fds, O_CLOEXEC) (02000000 on x86-64 and arm64): a pipe that children spawned at the same moment
/// from other threads cannot inherit, so its reader sees end of file when its own child ends.
static inline int provision_pipe_cloexec(int fds[2]) {
    return pipe2(fds, 02000000);
}

extern int posix_spawn_file_actions_addclosefrom_np(void *actions, int from);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes every descriptor from `from`
/// on, so it holds none of the parent's sockets (a listening port must be free once the parent is gone).
static inline int provision_spawn_close_from(void *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

extern int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);

/// sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) (2 on every architecture): starts writing back the
/// file's dirty pages and returns without waiting, so that a later fsync of it has little left to do.
static inline int provision_start_writeback(int fd) {
    return sync_file_range(fd, 0, 0, 2);
}
