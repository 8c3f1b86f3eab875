/*
 * Resource limits: getrlimit, setrlimit and prlimit64 for the one program.
 * RLIMIT_NOFILE is real (the descriptor table's ceiling, lib/fs/file.c);
 * RLIMIT_STACK reports the main thread's stack (stack= on the command
 * line).  The others are kept and reported as set but nothing enforces
 * them: Toro has no core dumps, no CPU-time accounting and one process.
 */
#include <errno.h>
#include <sys/resource.h>

#include "lib/crt/start.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/spinlock.h"
#include "lib/sys/syscall.h"

struct lim {
	unsigned long cur, max;
};

static struct spinlock lim_lock;
static struct lim lims[RLIM_NLIMITS];
static bool lims_ready;

/* Under lim_lock: every limit unlimited but the stack's. */
static void
lims_init(void)
{
	if (lims_ready)
		return;
	for (int r = 0; r < RLIM_NLIMITS; r++)
		lims[r] = (struct lim){ RLIM_INFINITY, RLIM_INFINITY };
	unsigned long s = crt_stack_size();
	lims[RLIMIT_STACK] = (struct lim){ s, s };
	lims_ready = true;
}

static long
do_rlimit(long resource, const struct rlimit *set, struct rlimit *old)
{
	if (resource < 0 || resource >= RLIM_NLIMITS)
		return -EINVAL;
	if ((set && !user_ok(set, sizeof(*set))) || (old && !user_ok(old, sizeof(*old))))
		return -EFAULT;
	struct rlimit s = { 0, 0 }, o;
	if (set) {
		s = *set;
		if (s.rlim_cur > s.rlim_max)
			return -EINVAL;
	}
	if (resource == RLIMIT_NOFILE) {
		unsigned long v[2] = { s.rlim_cur, s.rlim_max }, w[2];
		long r = fd_rlimit(set ? v : NULL, w);
		if (r)
			return r == -EINVAL && set ? -EPERM : r;	/* above nr_open */
		o.rlim_cur = w[0];
		o.rlim_max = w[1];
	} else {
		spin_lock(&lim_lock);
		lims_init();
		o.rlim_cur = lims[resource].cur;
		o.rlim_max = lims[resource].max;
		if (set)
			lims[resource] = (struct lim){ s.rlim_cur, s.rlim_max };
		spin_unlock(&lim_lock);
	}
	if (old)
		*old = o;
	return 0;
}

long
sys_prlimit64(long pid, long resource, long set, long old, long a4, long a5)
{
	if (pid != 0 && pid != 1)
		return -ESRCH;		/* the program is pid 1, alone */
	return do_rlimit(resource, (const struct rlimit *)set, (struct rlimit *)old);
}

long
sys_getrlimit(long resource, long old, long a2, long a3, long a4, long a5)
{
	if (!old)
		return -EFAULT;
	return do_rlimit(resource, NULL, (struct rlimit *)old);
}

long
sys_setrlimit(long resource, long set, long a2, long a3, long a4, long a5)
{
	if (!set)
		return -EFAULT;
	return do_rlimit(resource, (const struct rlimit *)set, NULL);
}
