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

long
sys_sched_getaffinity(long pid, long len, long mask, long a3, long a4, long a5)
{
	uint64_t *m = (uint64_t *)mask;
	struct thread *t = thread_find((int)pid);

	if (!t)
		return -ESRCH;
	/* Linux: at least one long, a multiple of its size; writes one. */
	if (len < (long)sizeof(*m) || len % (long)sizeof(long))
		return -EINVAL;
	if (!user_ok(m, sizeof(*m)))
		return -EFAULT;
	*m = t->affinity & smp_online_mask();
	return sizeof(*m);
}

long
sys_sched_setaffinity(long pid, long len, long mask, long a3, long a4, long a5)
{
	const uint64_t *m = (const uint64_t *)mask;
	struct thread *t = thread_find((int)pid);

	if (!t)
		return -ESRCH;
	if (len < (long)sizeof(*m))
		return -EINVAL;
	if (!user_ok(m, sizeof(*m)))
		return -EFAULT;
	uint64_t allowed = *m & smp_online_mask();
	if (!allowed)
		return -EINVAL;
	t->affinity = allowed;
	unsigned here = sched_cpu_index(t->cpu);
	if (!(allowed >> here & 1))
		sched_migrate(t, (unsigned)__builtin_ctzll(allowed));
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
