/*
 * Which CPUs there are, which ones a thread may run on and which one the
 * caller runs on: sched_getaffinity (musl's sysconf(_SC_NPROCESSORS_ONLN)
 * counts its bits), sched_setaffinity (which moves a thread off a core it
 * may no longer use) and getcpu.
 */
#include <errno.h>

#include "arch/x86_64/cpu.h"
#include "lib/sched/sched.h"
#include "lib/sys/syscall.h"

static long
get_affinity(struct thread *t, void *mask)
{
	*(uint64_t *)mask = t->affinity & smp_online_mask();
	return 0;
}

long
sys_sched_getaffinity(long pid, long len, long mask, long a3, long a4, long a5)
{
	uint64_t m;

	/* Linux: at least one long, a multiple of its size; writes one. */
	if (len < (long)sizeof(m) || len % (long)sizeof(long))
		return -EINVAL;
	if (!user_ok((void *)mask, sizeof(m)))
		return -EFAULT;
	long err = thread_apply((int)pid, get_affinity, &m);
	if (err)
		return err;
	*(uint64_t *)mask = m;
	return sizeof(m);
}

/*
 * Records the new mask; a thread on a core it may no longer use is told
 * to move to the lowest one it may (another thread moves at its next
 * scheduling point; the caller yields for it below, outside the lock).
 */
static long
set_affinity(struct thread *t, void *mask)
{
	uint64_t allowed = *(uint64_t *)mask;

	t->affinity = allowed;
	if (!(allowed >> sched_cpu_index(t->cpu) & 1))
		__atomic_store_n(&t->want_cpu, __builtin_ctzll(allowed),
				 __ATOMIC_RELEASE);
	return 0;
}

long
sys_sched_setaffinity(long pid, long len, long mask, long a3, long a4, long a5)
{
	const uint64_t *m = (const uint64_t *)mask;

	if (!thread_find((int)pid))	/* Linux looks the thread up first */
		return -ESRCH;
	if (len < (long)sizeof(*m))
		return -EINVAL;
	if (!user_ok(m, sizeof(*m)))
		return -EFAULT;
	uint64_t allowed = *m & smp_online_mask();
	if (!allowed)
		return -EINVAL;
	struct thread *self = sched_current();
	long err = thread_apply(pid == self->tid ? 0 : (int)pid, set_affinity, &allowed);
	if (err)
		return err;
	if (__atomic_load_n(&self->want_cpu, __ATOMIC_ACQUIRE) >= 0)
		sched_yield_cpu();	/* moves the caller now */
	return 0;
}

long
sys_getcpu(long cpu, long node, long cache, long a3, long a4, long a5)
{
	if (cpu && !user_ok((void *)cpu, sizeof(unsigned)))
		return -EFAULT;
	if (node && !user_ok((void *)node, sizeof(unsigned)))
		return -EFAULT;
	if (cpu)
		*(unsigned *)cpu = this_cpu()->index;
	if (node)
		*(unsigned *)node = 0;
	return 0;
}
