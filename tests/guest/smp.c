/*
 * What an application sees of the CPUs: sysconf(_SC_NPROCESSORS_ONLN)
 * (musl counts the bits of sched_getaffinity), the affinity mask itself,
 * and sched_getcpu().  With an argument, it then sleeps that many
 * milliseconds (smp.test measures what an idle guest costs the host).
 * Prints one "name: value" line per fact; smp.test checks them.  Exits
 * with status 42 when it got that far.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	cpu_set_t set;

	printf("online: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		printf("affinity: %d cpus, cpu0 %d\n", CPU_COUNT(&set),
		       CPU_ISSET(0, &set) ? 1 : 0);
	else
		perror("affinity");
	printf("getcpu: %d\n", sched_getcpu());
	if (argc > 1) {
		long ms = atol(argv[1]);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
		printf("slept: %ld ms\n", ms);
	}
	return 42;
}
