/*
 * The Toro thread API (include/toro/thread.h) over POSIX threads: the
 * application and the kernel share ring 0 and one image, so placing a
 * thread is a word set in the creating thread for the clone() that
 * pthread_create() is about to issue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <toro/thread.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/sched/sched.h"

int
toro_cpu_count(void)
{
	return (int)smp_online_count();
}

int
toro_cpu_current(void)
{
	unsigned long flags = irq_save();
	int cpu = (int)this_cpu()->index;

	irq_restore(flags);
	return cpu;
}

static bool
cpu_online(int cpu)
{
	return cpu >= 0 && cpu < CPU_MAX && (smp_online_mask() >> cpu & 1);
}

int
toro_thread_spawn(pthread_t *thread, int cpu, void *(*fn)(void *), void *arg)
{
	if (cpu != TORO_CPU_ANY && !cpu_online(cpu))
		return EINVAL;
	unsigned long flags = irq_save();
	struct thread *self = sched_current();
	self->spawn_cpu = cpu;
	irq_restore(flags);
	int err = pthread_create(thread, NULL, fn, arg);
	flags = irq_save();
	self->spawn_cpu = -1;
	irq_restore(flags);
	return err;
}

int
toro_thread_migrate(pthread_t thread, int cpu)
{
	cpu_set_t set;

	if (!cpu_online(cpu))
		return EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(thread, sizeof(set), &set);
}

int
toro_thread_yield(void)
{
	return sched_yield();
}

int
toro_thread_join(pthread_t thread, void **result)
{
	return pthread_join(thread, result);
}
