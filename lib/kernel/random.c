/*
 * Random bytes.  RDRAND where the CPU offers it (QEMU TCG's default CPU does
 * not); otherwise xorshift128+ seeded from the TSC at first use and stirred
 * with the TSC on every call.  Good enough for hash seeds and stack canaries,
 * not for keys: say so in getrandom(2)'s documentation (toro(7)).
 */
#include "lib/kernel/random.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/io.h"

static uint64_t state[2];
static int have_rdrand = -1;

static bool
rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) {
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

static uint64_t
xorshift(void)
{
	uint64_t s1 = state[0], s0 = state[1];

	state[0] = s0;
	s1 ^= s1 << 23;
	state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return state[1] + s0;
}

static uint64_t
next(void)
{
	uint64_t v;

	if (have_rdrand < 0) {
		uint32_t r[4];
		cpuid(1, 0, r);
		have_rdrand = (r[2] >> 30) & 1;
		state[0] = rdtsc() * 0x9E3779B97F4A7C15ULL;
		state[1] = (rdtsc() ^ 0xD1B54A32D192ED03ULL) | 1;
	}
	if (have_rdrand && rdrand64(&v))
		return v;
	state[0] ^= rdtsc();
	return xorshift();
}

void
random_fill(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t v = next();
		size_t n = len < 8 ? len : 8;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}
