/*
 * Futexes (futex.c): wait while a 32-bit word holds a value, wake waiters.
 * Negative errno values, as the futex system call returns them.
 */
#ifndef TORO_FUTEX_H
#define TORO_FUTEX_H

#include <stdint.h>

/*
 * Blocks the caller while *addr == val, until futex_wake() with a bitset
 * that shares a bit with bitset, or until the TSC reaches deadline (0 =
 * never).  0 when woken, -EAGAIN if *addr != val, -ETIMEDOUT.
 */
int futex_wait(uint32_t *addr, uint32_t val, uint32_t bitset, uint64_t deadline);
/* Wakes up to n waiters on addr; returns how many. */
int futex_wake(uint32_t *addr, int n, uint32_t bitset);
/*
 * Wakes up to nwake waiters on addr and moves up to nmove others to wait
 * on addr2; with cmp, only if *addr == *cmp (-EAGAIN otherwise).
 */
int futex_requeue(uint32_t *addr, int nwake, int nmove, uint32_t *addr2,
		  const uint32_t *cmp);

#endif
