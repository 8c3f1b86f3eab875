/*
 * toro/thread.h - cores and the threads placed on them.
 *
 * Every core runs its own scheduler over the threads placed on it; a
 * thread stays on its core until it is moved.  These calls place, move and
 * find threads; everything else (join, mutexes, condition variables) is
 * POSIX threads, which work unchanged.  See toro_thread(3).
 */
#ifndef TORO_THREAD_H
#define TORO_THREAD_H

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "Any core": the kernel chooses (see toro_thread(3) for the policy). */
#define TORO_CPU_ANY (-1)

/* Number of cores online (= -smp N), numbered 0 .. count - 1. */
int toro_cpu_count(void);
/* The core the caller runs on. */
int toro_cpu_current(void);

/*
 * Creates a POSIX thread running fn(arg) on core cpu, or on the core the
 * placement policy picks for TORO_CPU_ANY.  Returns 0 or an errno value,
 * as pthread_create() does; EINVAL for a core that is not online.
 */
int toro_thread_spawn(pthread_t *thread, int cpu, void *(*fn)(void *),
		      void *arg);
/*
 * Moves a thread to core cpu: the caller (thread == pthread_self()) at
 * once, another thread the next time it blocks, yields or is preempted.
 * Returns 0 or an errno value.
 */
int toro_thread_migrate(pthread_t thread, int cpu);
/* Lets the other threads on this core run; 0. */
int toro_thread_yield(void);
/* pthread_join(), under the Toro name. */
int toro_thread_join(pthread_t thread, void **result);

#ifdef __cplusplus
}
#endif

#endif
