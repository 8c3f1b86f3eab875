/*
 * Thread calls: clone() as musl's pthread_create() issues it, futex()
 * and set_robust_list().  Toro has one process, so clone() makes threads
 * only: a request for a new process (fork, vfork, posix_spawn) is refused
 * with ENOSYS.  The scheduling itself is lib/sched's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "lib/sched/futex.h"
#include "lib/sched/sched.h"
#include "lib/sys/syscall.h"

extern char thread_start_clone[];

/* The Linux futex operations musl uses (linux/futex.h). */
#define FUTEX_WAIT		0
#define FUTEX_WAKE		1
#define FUTEX_REQUEUE		3
#define FUTEX_CMP_REQUEUE	4
#define FUTEX_WAIT_BITSET	9
#define FUTEX_WAKE_BITSET	10
#define FUTEX_PRIVATE_FLAG	128	/* one address space: no difference */
#define FUTEX_CLOCK_REALTIME	256
#define FUTEX_CMD_MASK		(~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

#define CLONE_NEEDED (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND)
#define CLONE_KNOWN (CLONE_NEEDED | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | \
		     CLONE_SETTLS | CLONE_PARENT_SETTID | \
		     CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED)

long
sys_clone(long flags, long stack, long ptid, long ctid, long tls, long a5)
{
	struct thread *self = sched_current();

	if ((flags & CLONE_NEEDED) != CLONE_NEEDED)
		return -ENOSYS;		/* a new process: there is only one */
	if ((flags & ~(CLONE_KNOWN | 0xFF)) || !stack)
		return -EINVAL;
	if ((flags & CLONE_PARENT_SETTID) && !user_ok((void *)ptid, 4))
		return -EFAULT;
	if ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
	    !user_ok((void *)ctid, 4))
		return -EFAULT;
	struct thread *t = thread_alloc();
	if (!t)
		return -EAGAIN;

	/* The child returns from this very call, on its own stack, with 0. */
	const struct syscall_frame *pf =
		(const struct syscall_frame *)self->kstack_top - 1;
	struct syscall_frame *cf = (struct syscall_frame *)t->kstack_top - 1;
	*cf = *pf;
	cf->args.nr = 0;
	cf->rsp = (uint64_t)stack;
	uint64_t *sp = (uint64_t *)cf - 7;
	memset(sp, 0, 6 * sizeof(*sp));
	sp[6] = (uint64_t)thread_start_clone;
	t->rsp = (uint64_t)sp;

	t->fs_base = flags & CLONE_SETTLS ? (uint64_t)tls : self->fs_base;
	/* Placed by toro_thread_spawn(): any core, starting on the one named. */
	t->affinity = self->spawn_cpu >= 0 ? ~0ULL : self->affinity;
	if (flags & CLONE_CHILD_CLEARTID)
		t->clear_child_tid = (uint32_t *)ctid;
	int tid = thread_register(t);
	if (flags & CLONE_PARENT_SETTID)
		*(uint32_t *)ptid = (uint32_t)tid;
	if (flags & CLONE_CHILD_SETTID)
		*(uint32_t *)ctid = (uint32_t)tid;
	__atomic_add_fetch(&thread_count, 1, __ATOMIC_ACQ_REL);
	sched_start(t, thread_place(self));
	return tid;
}

long
sys_set_robust_list(long head, long len, long a2, long a3, long a4, long a5)
{
	if (len != 24)		/* sizeof(struct robust_list_head) */
		return -EINVAL;
	sched_current()->robust_list = (uint64_t)head;
	return 0;
}

/* The TSC deadline of a futex wait's timeout, 0 for none. */
static int
wait_deadline(int cmd, long op, long timeout, uint64_t *deadline)
{
	const struct timespec *ts = (const struct timespec *)timeout;

	*deadline = 0;
	if (!ts)
		return 0;
	if (!user_ok(ts, sizeof(*ts)))
		return -EFAULT;
	if (cmd == FUTEX_WAIT)		/* relative, on the monotonic clock */
		return time_deadline(CLOCK_MONOTONIC, ts, false, deadline);
	return time_deadline(op & FUTEX_CLOCK_REALTIME ? CLOCK_REALTIME
						      : CLOCK_MONOTONIC,
			     ts, true, deadline);
}

long
sys_futex(long addr, long op, long val, long timeout, long addr2, long val3)
{
	uint32_t *a = (uint32_t *)addr, *a2 = (uint32_t *)addr2;
	int cmd = (int)(op & FUTEX_CMD_MASK);
	uint64_t deadline;
	int err;

	if ((addr & 3) || !user_ok(a, 4))
		return (addr & 3) ? -EINVAL : -EFAULT;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		err = wait_deadline(cmd, op, timeout, &deadline);
		if (err)
			return err;
		return futex_wait(a, (uint32_t)val,
				  cmd == FUTEX_WAIT ? ~0U : (uint32_t)val3, deadline);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		return futex_wake(a, (int)val,
				  cmd == FUTEX_WAKE ? ~0U : (uint32_t)val3);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if ((addr2 & 3) || !user_ok(a2, 4))
			return (addr2 & 3) ? -EINVAL : -EFAULT;
		return futex_requeue(a, (int)val, (int)timeout, a2,
				     cmd == FUTEX_CMP_REQUEUE ? &(uint32_t){ (uint32_t)val3 }
							      : NULL);
	}
	return -ENOSYS;
}
