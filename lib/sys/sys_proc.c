/*
 * Process-level calls for Toro's single application: exit, thread pointer,
 * identity (pid 1, root; thread ids from lib/sched), uname, and signals.  A signal sent to ourselves
 * whose default action ends a process (abort() raising SIGABRT, say) stops
 * the VM with 128 + the signal, as a shell reports a killed process.
 * Handlers are recorded but never run: there is no delivery yet.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/utsname.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/layout.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/panic.h"
#include "lib/kernel/printk.h"
#include "lib/sched/futex.h"
#include "lib/sched/sched.h"
#include "lib/sys/syscall.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

/*
 * The end of one thread.  As CLONE_CHILD_CLEARTID asks, its id word is
 * cleared and a waiter woken (musl's thread-list lock is released this
 * way); the last thread to end ends the program with its status.
 */
long
sys_exit(long status, long a1, long a2, long a3, long a4, long a5)
{
	struct thread *t = sched_current();
	uint32_t *ctid = t->clear_child_tid;

	if (ctid && user_ok(ctid, sizeof(*ctid))) {
		__atomic_store_n(ctid, 0, __ATOMIC_SEQ_CST);
		futex_wake(ctid, 1, ~0U);
	}
	thread_unregister(t);
	if (__atomic_sub_fetch(&thread_count, 1, __ATOMIC_ACQ_REL) == 0)
		sys_exit_group(status, 0, 0, 0, 0, 0);
	sched_exit_current();
}

/* In programs that make sockets only (lib/net/sock_exit.c). */
__attribute__((weak)) void sock_exit_drain(unsigned wait_ms);

static unsigned exit_wait_ms = 2000;

int
tcp_set_exit_wait(const char *v)
{
	return kparse_uint(v, 600000, &exit_wait_ms);
}

/*
 * The program's end stops the machine: first every file system writes
 * back what it still caches (FAT's sectors), or it would be lost, and
 * TCP gets to deliver what the sockets still hold (tcp.exit_wait=).
 */
long
sys_exit_group(long status, long a1, long a2, long a3, long a4, long a5)
{
	vfs_sync_all();
	if (sock_exit_drain)
		sock_exit_drain(exit_wait_ms);
	kernel_exit((int)(status & 0xFF));
}

long
sys_arch_prctl(long code, long addr, long a2, long a3, long a4, long a5)
{
	switch (code) {
	case ARCH_SET_FS:
		sched_current()->fs_base = (uint64_t)addr;
		wrmsr(MSR_FS_BASE, (uint64_t)addr);
		return 0;
	case ARCH_GET_FS:
		if (!user_ok((void *)addr, 8))
			return -EFAULT;
		*(uint64_t *)addr = rdmsr(MSR_FS_BASE);
		return 0;
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		return -EPERM;		/* %gs belongs to the kernel */
	}
	return -EINVAL;
}

long
sys_set_tid_address(long tidptr, long a1, long a2, long a3, long a4, long a5)
{
	struct thread *t = sched_current();

	t->clear_child_tid = (uint32_t *)tidptr;
	return t->tid;
}

long
sys_gettid(long a0, long a1, long a2, long a3, long a4, long a5)
{
	return sched_current()->tid;
}

long
sys_getpid(long a0, long a1, long a2, long a3, long a4, long a5)
{
	return 1;
}

long
sys_getppid(long a0, long a1, long a2, long a3, long a4, long a5)
{
	return 0;
}

long
sys_getuid(long a0, long a1, long a2, long a3, long a4, long a5)
{
	return 0;
}

long
sys_uname(long buf, long a1, long a2, long a3, long a4, long a5)
{
	struct utsname *u = (struct utsname *)buf;

	if (!user_ok(u, sizeof(*u)))
		return -EFAULT;
	memset(u, 0, sizeof(*u));
	memcpy(u->sysname, "Toro", 5);
	memcpy(u->nodename, "toro", 5);
	memcpy(u->release, PACKAGE_VERSION, sizeof(PACKAGE_VERSION));
	memcpy(u->version, "#1", 3);
	memcpy(u->machine, "x86_64", 7);
	return 0;
}

static const char *const signal_names[32] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
};

/* A signal to ourselves: ignored by default, or the end of the program. */
static long
self_signal(long sig)
{
	if (sig == 0)
		return 0;
	if (sig < 0 || sig >= 65)
		return -EINVAL;
	if (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH)
		return 0;
	const char *name = sig < 32 ? signal_names[sig] : NULL;
	kprintf("toro: application killed by signal %ld (%s)\n", sig,
		name ? name : "real-time");
	kernel_exit(128 + (int)sig);
}

long
sys_kill(long pid, long sig, long a2, long a3, long a4, long a5)
{
	if (pid != 1 && pid != 0 && pid != -1)
		return -ESRCH;
	return self_signal(sig);
}

/* A signal to one thread: same effect, as long as the thread exists. */
long
sys_tkill(long tid, long sig, long a2, long a3, long a4, long a5)
{
	if (tid <= 0)
		return -EINVAL;
	if (!thread_find((int)tid))
		return -ESRCH;
	return self_signal(sig);
}

long
sys_tgkill(long tgid, long tid, long sig, long a3, long a4, long a5)
{
	if (tgid != 1)
		return tgid <= 0 ? -EINVAL : -ESRCH;
	return sys_tkill(tid, sig, 0, 0, 0, 0);
}

long
sys_rt_sigaction(long sig, long act, long old, long size, long a4, long a5)
{
	if (sig < 1 || sig >= 65 || sig == SIGKILL || sig == SIGSTOP)
		return -EINVAL;
	if (old) {
		if (!user_ok((void *)old, 32))
			return -EFAULT;
		memset((void *)old, 0, 32);	/* handler: SIG_DFL */
	}
	return 0;
}

long
sys_rt_sigprocmask(long how, long set, long old, long size, long a4, long a5)
{
	if (size != 8)
		return -EINVAL;
	if (old) {
		if (!user_ok((void *)old, 8))
			return -EFAULT;
		*(uint64_t *)old = 0;
	}
	return 0;
}

long
sys_sched_yield(long a0, long a1, long a2, long a3, long a4, long a5)
{
	sched_yield_cpu();
	return 0;
}
