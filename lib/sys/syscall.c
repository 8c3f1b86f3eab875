/*
 * System-call dispatch.  One table from Linux x86_64 numbers to adapters;
 * an unknown call returns -ENOSYS and is logged once, by name, so a missing
 * piece shows up in the console instead of as a mystery.
 */
#include "lib/sys/syscall.h"

#include <errno.h>
#include <sys/syscall.h>

#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"

#define NR_MAX 512

static const syscall_fn table[NR_MAX] = {
	[SYS_read] = sys_read,
	[SYS_write] = sys_write,
	[SYS_readv] = sys_readv,
	[SYS_writev] = sys_writev,
	[SYS_ioctl] = sys_ioctl,
	[SYS_lseek] = sys_lseek,
	[SYS_close] = sys_close,
	[SYS_fcntl] = sys_fcntl,
	[SYS_brk] = sys_brk,
	[SYS_mmap] = sys_mmap,
	[SYS_munmap] = sys_munmap,
	[SYS_mremap] = sys_mremap,
	[SYS_madvise] = sys_madvise,
	[SYS_mprotect] = sys_mprotect,
	[SYS_exit] = sys_exit,
	[SYS_exit_group] = sys_exit,
	[SYS_arch_prctl] = sys_arch_prctl,
	[SYS_set_tid_address] = sys_set_tid_address,
	[SYS_getpid] = sys_getpid,
	[SYS_gettid] = sys_getpid,
	[SYS_getppid] = sys_getppid,
	[SYS_getuid] = sys_getuid,
	[SYS_geteuid] = sys_getuid,
	[SYS_getgid] = sys_getuid,
	[SYS_getegid] = sys_getuid,
	[SYS_uname] = sys_uname,
	[SYS_kill] = sys_kill,
	[SYS_tkill] = sys_kill,
	[SYS_tgkill] = sys_tgkill,
	[SYS_rt_sigaction] = sys_rt_sigaction,
	[SYS_rt_sigprocmask] = sys_rt_sigprocmask,
	[SYS_sched_yield] = sys_sched_yield,
	[SYS_clock_gettime] = sys_clock_gettime,
	[SYS_clock_getres] = sys_clock_getres,
	[SYS_gettimeofday] = sys_gettimeofday,
	[SYS_time] = sys_time,
	[SYS_nanosleep] = sys_nanosleep,
	[SYS_clock_nanosleep] = sys_clock_nanosleep,
	[SYS_getrandom] = sys_getrandom,
};

static uint64_t reported[NR_MAX / 64];

bool
user_ok(const void *p, size_t len)
{
	return len == 0 || vm_user_range_ok(p, len);
}

long
syscall_dispatch(const struct syscall_args *args)
{
	long nr = args->nr;
	const long *a = args->a;

	if (nr >= 0 && nr < NR_MAX && table[nr])
		return table[nr](a[0], a[1], a[2], a[3], a[4], a[5]);
	if (nr >= 0 && nr < NR_MAX) {
		if (reported[nr / 64] & (1ULL << (nr % 64)))
			return -ENOSYS;
		reported[nr / 64] |= 1ULL << (nr % 64);
	}
	const char *name = syscall_name(nr);
	pr_warn("unsupported system call %s (%ld) returns ENOSYS\n",
		name ? name : "?", nr);
	return -ENOSYS;
}
