/* Random bytes for getrandom() and AT_RANDOM. */
#ifndef TORO_RANDOM_H
#define TORO_RANDOM_H

#include <stddef.h>

/*
 * Fills buf: from RDRAND when the CPU has it, otherwise from a generator
 * seeded with TSC jitter, which is NOT cryptographically strong.
 */
void random_fill(void *buf, size_t len);

#endif
