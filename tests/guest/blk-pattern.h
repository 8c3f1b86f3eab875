/*
 * The pseudo-random disk contents blk.c writes and blk.test checks on the
 * host: every 64-bit word is a function of (seed, sector, word index), so
 * any sector can be checked on its own and a misplaced sector is caught.
 * Shared verbatim by the guest and the host checker.
 */
#ifndef TORO_TESTS_BLK_PATTERN_H
#define TORO_TESTS_BLK_PATTERN_H

#include <stdint.h>

static inline void
blk_pattern_sector(uint64_t seed, uint64_t sector, uint64_t out[64])
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL ^ (sector + 1) * 0xD1B54A32D192ED03ULL;

	for (int i = 0; i < 64; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		out[i] = x * 0x2545F4914F6CDD1DULL;
	}
}

#endif
