/*
 * System-call dispatch.  One table from Linux x86_64 numbers to adapters;
 * an unknown call returns -ENOSYS and is logged once, by name, so a missing
 * piece shows up in the console instead of as a mystery.
 */
#include "lib/sys/syscall.h"

#include <errno.h>
#include <limits.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"

#define NR_MAX 512

/*
 * The socket, epoll and eventfd calls are weak references: an image gets
 * them (and TCP, epoll.c, eventfd.c) only if the application makes a
 * socket, an epoll set or an eventfd, through lib/crt/optional.c; without
 * them their slots are empty and answer ENOSYS (no descriptor they could
 * work on exists then).
 */
#define OPTIONAL_CALLS(X) \
	X(SYS_epoll_create, sys_epoll_create) \
	X(SYS_epoll_create1, sys_epoll_create1) \
	X(SYS_epoll_ctl, sys_epoll_ctl) \
	X(SYS_epoll_wait, sys_epoll_wait) \
	X(SYS_epoll_pwait, sys_epoll_pwait) \
	X(SYS_epoll_pwait2, sys_epoll_pwait2) \
	X(SYS_eventfd, sys_eventfd) \
	X(SYS_eventfd2, sys_eventfd2) \
	X(SYS_socket, sys_socket) \
	X(SYS_socketpair, sys_socketpair) \
	X(SYS_bind, sys_bind) \
	X(SYS_listen, sys_listen) \
	X(SYS_accept, sys_accept) \
	X(SYS_accept4, sys_accept4) \
	X(SYS_connect, sys_connect) \
	X(SYS_sendto, sys_sendto) \
	X(SYS_recvfrom, sys_recvfrom) \
	X(SYS_sendmsg, sys_sendmsg) \
	X(SYS_recvmsg, sys_recvmsg) \
	X(SYS_shutdown, sys_shutdown) \
	X(SYS_setsockopt, sys_setsockopt) \
	X(SYS_getsockopt, sys_getsockopt) \
	X(SYS_getsockname, sys_getsockname) \
	X(SYS_getpeername, sys_getpeername)
#define WEAK_PRAGMA(x) _Pragma(#x)
#define WEAK(nr, fn) WEAK_PRAGMA(weak fn)
OPTIONAL_CALLS(WEAK)
#undef WEAK

/*
 * Two small tables instead of one of NR_MAX pointers: the slot of each
 * implemented call (0 = none), then the adapters.  Keeps hello world small.
 */
#define SYSCALLS(X) \
	X(SYS_read, sys_read) \
	X(SYS_write, sys_write) \
	X(SYS_readv, sys_readv) \
	X(SYS_writev, sys_writev) \
	X(SYS_ioctl, sys_ioctl) \
	X(SYS_lseek, sys_lseek) \
	X(SYS_close, sys_close) \
	X(SYS_fcntl, sys_fcntl) \
	X(SYS_pread64, sys_pread64) \
	X(SYS_pwrite64, sys_pwrite64) \
	X(SYS_preadv, sys_preadv) \
	X(SYS_pwritev, sys_pwritev) \
	X(SYS_sendfile, sys_sendfile) \
	X(SYS_dup, sys_dup) \
	X(SYS_dup2, sys_dup2) \
	X(SYS_dup3, sys_dup3) \
	X(SYS_fstat, sys_fstat) \
	X(SYS_getdents64, sys_getdents64) \
	X(SYS_fsync, sys_fsync) \
	X(SYS_sync, sys_sync) \
	X(SYS_syncfs, sys_fsync) \
	X(SYS_fdatasync, sys_fsync) \
	X(SYS_ftruncate, sys_ftruncate) \
	X(SYS_fchdir, sys_fchdir) \
	X(SYS_fstatfs, sys_fstatfs) \
	X(SYS_open, sys_open) \
	X(SYS_openat, sys_openat) \
	X(SYS_creat, sys_creat) \
	X(SYS_stat, sys_stat) \
	X(SYS_lstat, sys_lstat) \
	X(SYS_newfstatat, sys_newfstatat) \
	X(SYS_statx, sys_statx) \
	X(SYS_mkdir, sys_mkdir) \
	X(SYS_mkdirat, sys_mkdirat) \
	X(SYS_unlink, sys_unlink) \
	X(SYS_unlinkat, sys_unlinkat) \
	X(SYS_rmdir, sys_rmdir) \
	X(SYS_rename, sys_rename) \
	X(SYS_renameat, sys_renameat) \
	X(SYS_renameat2, sys_renameat2) \
	X(SYS_symlink, sys_symlink) \
	X(SYS_symlinkat, sys_symlinkat) \
	X(SYS_readlink, sys_readlink) \
	X(SYS_readlinkat, sys_readlinkat) \
	X(SYS_access, sys_access) \
	X(SYS_faccessat, sys_faccessat) \
	X(SYS_faccessat2, sys_faccessat2) \
	X(SYS_truncate, sys_truncate) \
	X(SYS_chdir, sys_chdir) \
	X(SYS_getcwd, sys_getcwd) \
	X(SYS_mount, sys_mount) \
	X(SYS_umount2, sys_umount2) \
	X(SYS_statfs, sys_statfs) \
	X(SYS_brk, sys_brk) \
	X(SYS_mmap, sys_mmap) \
	X(SYS_munmap, sys_munmap) \
	X(SYS_mremap, sys_mremap) \
	X(SYS_madvise, sys_madvise) \
	X(SYS_mprotect, sys_mprotect) \
	X(SYS_exit, sys_exit) \
	X(SYS_exit_group, sys_exit_group) \
	X(SYS_arch_prctl, sys_arch_prctl) \
	X(SYS_set_tid_address, sys_set_tid_address) \
	X(SYS_getpid, sys_getpid) \
	X(SYS_gettid, sys_gettid) \
	X(SYS_getppid, sys_getppid) \
	X(SYS_getuid, sys_getuid) \
	X(SYS_geteuid, sys_getuid) \
	X(SYS_getgid, sys_getuid) \
	X(SYS_getegid, sys_getuid) \
	X(SYS_uname, sys_uname) \
	X(SYS_prlimit64, sys_prlimit64) \
	X(SYS_getrlimit, sys_getrlimit) \
	X(SYS_setrlimit, sys_setrlimit) \
	X(SYS_kill, sys_kill) \
	X(SYS_tkill, sys_tkill) \
	X(SYS_tgkill, sys_tgkill) \
	X(SYS_rt_sigaction, sys_rt_sigaction) \
	X(SYS_rt_sigprocmask, sys_rt_sigprocmask) \
	X(SYS_sched_yield, sys_sched_yield) \
	X(SYS_sched_getaffinity, sys_sched_getaffinity) \
	X(SYS_sched_setaffinity, sys_sched_setaffinity) \
	X(SYS_clone, sys_clone) \
	X(SYS_futex, sys_futex) \
	X(SYS_set_robust_list, sys_set_robust_list) \
	X(SYS_getcpu, sys_getcpu) \
	X(SYS_clock_gettime, sys_clock_gettime) \
	X(SYS_clock_getres, sys_clock_getres) \
	X(SYS_gettimeofday, sys_gettimeofday) \
	X(SYS_time, sys_time) \
	X(SYS_nanosleep, sys_nanosleep) \
	X(SYS_clock_nanosleep, sys_clock_nanosleep) \
	X(SYS_getrandom, sys_getrandom) \
	X(SYS_poll, sys_poll) \
	X(SYS_ppoll, sys_ppoll) \
	X(SYS_select, sys_select) \
	X(SYS_pselect6, sys_pselect6) \
	OPTIONAL_CALLS(X)

enum {
	SLOT_NONE,
#define X(nr, fn) SLOT_##nr,
	SYSCALLS(X)
#undef X
	SLOT_COUNT
};

static const uint8_t slot[NR_MAX] = {
#define X(nr, fn) [nr] = SLOT_##nr,
	SYSCALLS(X)
#undef X
};

static const syscall_fn handler[SLOT_COUNT] = {
#define X(nr, fn) [SLOT_##nr] = fn,
	SYSCALLS(X)
#undef X
};

/* Bit nr: call nr was reported; bit NR_MAX: a number outside the table was. */
static uint64_t reported[NR_MAX / 64 + 1];

bool
user_ok(const void *p, size_t len)
{
	return len == 0 || vm_user_range_ok(p, len);
}

long
user_iov_total(const struct iovec *iov, long cnt)
{
	long total = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	if (!user_ok(iov, (size_t)cnt * sizeof(*iov)))
		return -EFAULT;
	for (long i = 0; i < cnt; i++) {
		if ((long)iov[i].iov_len < 0 || total + (long)iov[i].iov_len < total)
			return -EINVAL;
		if (!user_ok(iov[i].iov_base, iov[i].iov_len))
			return -EFAULT;
		total += (long)iov[i].iov_len;
	}
	return total;
}

long
syscall_dispatch(const struct syscall_args *args)
{
	long nr = args->nr;
	const long *a = args->a;

	if (nr >= 0 && nr < NR_MAX && slot[nr] && handler[slot[nr]])
		return handler[slot[nr]](a[0], a[1], a[2], a[3], a[4], a[5]);
	long bit = nr >= 0 && nr < NR_MAX ? nr : NR_MAX;
	if (reported[bit / 64] & (1ULL << (bit % 64)))
		return -ENOSYS;
	reported[bit / 64] |= 1ULL << (bit % 64);
	const char *name = syscall_name(nr);
	pr_warn("unsupported system call %s (%ld) returns ENOSYS\n",
		name ? name : "?", nr);
	return -ENOSYS;
}
