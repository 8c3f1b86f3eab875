/*
 * The Internet checksum (RFC 1071) as net.h declares it.  The one's
 * complement sum does not care about byte order or word size (RFC 1071
 * 2.(B), 2.(C)): we add the buffer as native little-endian 32-bit halves
 * of 64-bit loads into a 64-bit accumulator, with no carry handling in
 * the loop, and fold at the end; stored with memcpy the result is in
 * network order.  Not the place for any protocol's header layout.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/net/net.h"

static inline uint64_t
halves(uint64_t w)
{
	return (w & 0xFFFFFFFFu) + (w >> 32);
}

uint32_t
net_csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t acc = sum;
	uint64_t w0, w1, w2, w3;

	/* Eight 32-bit additions a round: 2^29 rounds before acc could wrap. */
	while (len >= 32) {
		memcpy(&w0, b, 8);
		memcpy(&w1, b + 8, 8);
		memcpy(&w2, b + 16, 8);
		memcpy(&w3, b + 24, 8);
		acc += halves(w0) + halves(w1) + halves(w2) + halves(w3);
		b += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w0, b, 8);
		acc += halves(w0);
		b += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, b, 4);
		acc += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, b, 2);
		acc += w;
		b += 2;
		len -= 2;
	}
	if (len)
		acc += *b;	/* the low byte of a little-endian 16-bit word */
	acc = halves(acc);
	acc = halves(acc);
	return (uint32_t)acc;
}

uint16_t
net_csum_fold(uint32_t sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t
net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t acc = (uint64_t)src + dst;

	/* Big-endian 16-bit fields, read as little-endian words: swapped. */
	acc += (uint32_t)proto << 8;
	acc += (uint16_t)(len << 8 | len >> 8);
	acc = halves(acc);
	return (uint32_t)halves(acc);
}
