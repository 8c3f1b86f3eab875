/*
 * Which CPUs there are and which one the caller runs on: sched_getaffinity
 * (the online CPUs: musl's sysconf(_SC_NPROCESSORS_ONLN) counts its bits)
 * and getcpu.  Setting affinity belongs with the scheduler, not here.
 */
#include <errno.h>

#include "arch/x86_64/cpu.h"
#include "lib/sys/syscall.h"

long
sys_sched_getaffinity(long pid, long len, long mask, long a3, long a4, long a5)
{
	uint64_t *m = (uint64_t *)mask;

	if (pid != 0 && pid != 1)
		return -ESRCH;
	/* Linux: at least one long, a multiple of its size; writes one. */
	if (len < (long)sizeof(*m) || len % (long)sizeof(long))
		return -EINVAL;
	if (!user_ok(m, sizeof(*m)))
		return -EFAULT;
	*m = smp_online_mask();
	return sizeof(*m);
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
