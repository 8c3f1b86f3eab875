/*
 * The channels' SPSC record ring (lib/sched/ring.c): init checks, an empty
 * ring, push/pop of one record, zero-length records, a full ring and its
 * recovery, an exact fit, -EMSGSIZE on push (never fits) and on pop (too
 * long for the buffer: the record stays), a record wrapping at every
 * 8-byte offset of the buffer for many lengths, counters about to wrap
 * at 2^64, a long random single-threaded run against a model queue, and
 * two threads streaming a million records of random lengths through a
 * small ring, checked for order and content (run it under TSan too).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sched/ring.h"
#include "tap.h"

static uint64_t store[65536 / 8];
static struct ring r;

/* A fresh ring over size bytes of store. */
static void
fresh(size_t size)
{
	memset(store, 0xee, sizeof(store));
	ring_init(&r, store, size);
}

static uint32_t
mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* Fills buf with len bytes derived from seed. */
static void
pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(mix(seed + (uint32_t)(i / 4)) >> (8 * (i % 4)));
}

static int
pattern_ok(const unsigned char *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (unsigned char)(mix(seed + (uint32_t)(i / 4)) >> (8 * (i % 4))))
			return 0;
	return 1;
}

static void
init_checks(void)
{
	struct ring q;

	is_int(ring_init(&q, store, 0), -EINVAL, "init: size 0 refused");
	is_int(ring_init(&q, store, 8), -EINVAL, "init: size 8 refused (no room for a record)");
	is_int(ring_init(&q, store, 48), -EINVAL, "init: size not a power of two refused");
	is_int(ring_init(&q, (char *)store + 4, 64), -EINVAL, "init: misaligned buffer refused");
	is_int(ring_init(&q, store, 16), 0, "init: 16 bytes accepted");
	is_int(ring_max_len(&q), 8, "16-byte ring: largest payload 8");
	is_int(ring_record_bytes(0), 8, "record of 0 bytes: header only");
	is_int(ring_record_bytes(1), 16, "record of 1 byte: padded to 16");
	is_int(ring_record_bytes(8), 16, "record of 8 bytes: 16");
	is_int(ring_record_bytes(9), 24, "record of 9 bytes: 24");
}

static void
empty_and_one(void)
{
	unsigned char in[100], out[128];

	fresh(256);
	is_int(ring_peek_len(&r), -EAGAIN, "empty: peek says EAGAIN");
	is_int(ring_try_pop(&r, out, sizeof(out)), -EAGAIN, "empty: pop says EAGAIN");
	pattern(in, sizeof(in), 1);
	is_int(ring_try_push(&r, in, sizeof(in)), 0, "push 100 bytes");
	is_int(ring_peek_len(&r), 100, "peek: 100");
	is_int(ring_peek_len(&r), 100, "peek again: still 100 (peek does not consume)");
	memset(out, 0, sizeof(out));
	is_int(ring_try_pop(&r, out, sizeof(out)), 100, "pop: 100");
	ok(pattern_ok(out, 100, 1), "pop: content intact");
	is_int(out[100], 0, "pop: nothing written past the record");
	is_int(ring_try_pop(&r, out, sizeof(out)), -EAGAIN, "empty again");

	is_int(ring_try_push(&r, NULL, 0), 0, "zero-length record pushed");
	is_int(ring_try_pop(&r, NULL, 0), 0, "zero-length record popped with cap 0");
	is_int(ring_try_pop(&r, out, sizeof(out)), -EAGAIN, "then empty");
	is_int(r.head, 8 + 112, "head counts header plus padded payload");
}

static void
full_and_fit(void)
{
	unsigned char in[512], out[512];
	int n = 0;

	fresh(256);
	pattern(in, sizeof(in), 2);
	while (ring_try_push(&r, in, 8) == 0)
		n++;
	is_int(n, 16, "256-byte ring holds 16 records of 8 bytes");
	is_int(ring_try_push(&r, in, 8), -EAGAIN, "full: push says EAGAIN");
	is_int(ring_try_push(&r, NULL, 0), -EAGAIN, "full: even a zero-length record");
	is_int(ring_try_pop(&r, out, 8), 8, "pop one");
	is_int(ring_try_push(&r, in, 9), -EAGAIN, "16 bytes free: a 9-byte record (24) does not fit");
	is_int(ring_try_push(&r, in, 8), 0, "16 bytes free: an 8-byte record fits");
	for (int i = 0; i < 16; i++)
		if (ring_try_pop(&r, out, 8) != 8 || memcmp(out, in, 8))
			n = -1;
	is_int(n, 16, "drain: 16 records, all intact");

	fresh(256);
	is_int(ring_try_push(&r, in, 249), -EMSGSIZE, "249 bytes never fit a 256-byte ring");
	is_int(ring_try_push(&r, in, 248), 0, "248 bytes: exact fit in an empty ring");
	is_int(ring_try_push(&r, NULL, 0), -EAGAIN, "exact fit leaves no room");
	is_int(ring_try_pop(&r, out, 247), -EMSGSIZE, "pop into 247 bytes: EMSGSIZE");
	is_int(ring_peek_len(&r), 248, "EMSGSIZE keeps the record");
	is_int(ring_try_pop(&r, out, 248), 248, "pop into exactly 248 bytes");
	ok(!memcmp(out, in, 248), "exact fit: content intact");

	/* The largest record after the ring has moved: it wraps. */
	is_int(ring_try_push(&r, in, 40), 0, "move the ring along by 48");
	is_int(ring_try_pop(&r, out, 40), 40, "and back to empty");
	is_int(ring_try_push(&r, in, 248), 0, "248 bytes at offset 48: wraps");
	memset(out, 0, sizeof(out));
	is_int(ring_try_pop(&r, out, sizeof(out)), 248, "popped");
	ok(!memcmp(out, in, 248), "wrapped exact fit: content intact");
}

/*
 * Every 8-byte offset of a 256-byte ring, every length 0..248: the record
 * goes in and comes out intact, with the counters where they should be.
 */
static void
wrap_everywhere(void)
{
	unsigned char in[256], out[264];
	int bad = 0, checked = 0;

	for (unsigned off = 0; off < 256; off += 8) {
		for (size_t len = 0; len <= 248; len++) {
			fresh(256);
			for (unsigned k = 0; k < off / 8; k++)
				if (ring_try_push(&r, NULL, 0) || ring_try_pop(&r, NULL, 0))
					bad++;
			pattern(in, len, off * 1000 + (unsigned)len);
			memset(out, 0x5a, sizeof(out));
			if (ring_try_push(&r, in, len) ||
			    ring_peek_len(&r) != (long)len ||
			    ring_try_pop(&r, out, len) != (long)len ||
			    memcmp(in, out, len) || out[len] != 0x5a ||
			    r.head != off + ring_record_bytes(len) || r.tail != r.head ||
			    ring_peek_len(&r) != -EAGAIN)
				bad++;
			checked++;
		}
	}
	is_int(bad, 0, "wrap at every offset: %d records intact", checked);

	/* The same with the ring nearly full behind the record. */
	bad = 0;
	for (unsigned off = 0; off < 256; off += 8) {
		fresh(256);
		for (unsigned k = 0; k < off / 8; k++)
			if (ring_try_push(&r, NULL, 0) || ring_try_pop(&r, NULL, 0))
				bad++;
		pattern(in, 100, off);
		if (ring_try_push(&r, in, 100) || ring_try_push(&r, in + 100, 100) ||
		    ring_try_push(&r, in, 33) != -EAGAIN)
			bad++;
		if (ring_try_pop(&r, out, 100) != 100 || memcmp(out, in, 100) ||
		    ring_try_pop(&r, out, 100) != 100 || memcmp(out, in + 100, 100))
			bad++;
	}
	is_int(bad, 0, "two records filling the ring, at every offset");
}

/* Counters a little below 2^64: they wrap and the ring does not notice. */
static void
counter_wrap(void)
{
	unsigned char in[64], out[64];
	int bad = 0;

	fresh(256);
	r.head = r.tail = r.head_seen = r.tail_seen = UINT64_MAX - 200;
	for (int i = 0; i < 100; i++) {
		pattern(in, (size_t)i % 60, (uint32_t)i);
		if (ring_try_push(&r, in, (size_t)i % 60) ||
		    ring_try_pop(&r, out, sizeof(out)) != i % 60 ||
		    memcmp(in, out, (size_t)i % 60))
			bad++;
	}
	ok(r.head < 10000, "the counters wrapped past 2^64");
	is_int(bad, 0, "100 records across the wrap of the counters");
	bad = 0;
	while (ring_try_push(&r, in, 8) == 0)
		bad++;
	is_int(bad, 16, "after the wrap: still exactly 16 records of 8 fit");
}

/* Random pushes and pops on one thread, against a model of the queue. */
static void
random_model(void)
{
	enum { N = 4096 };
	static uint32_t seeds[N];
	static size_t lens[N];
	unsigned char in[1024], out[1024];
	unsigned qh = 0, qt = 0;	/* model queue of (seed, len) */
	uint64_t used = 0;
	int bad = 0;
	uint32_t x = 12345;

	fresh(2048);
	for (int step = 0; step < 200000; step++) {
		x = mix(x + (uint32_t)step);
		if (x % 3) {
			size_t len = (x >> 8) % 3 ? (x >> 12) % 64 : (x >> 12) % 1024;
			uint64_t need = ring_record_bytes(len);
			pattern(in, len, x);
			int rc = ring_try_push(&r, in, len);
			int want = len > 2040 ? -EMSGSIZE : used + need > 2048 ? -EAGAIN : 0;
			if (rc != want)
				bad++;
			if (rc == 0) {
				seeds[qt % N] = x;
				lens[qt % N] = len;
				qt++;
				used += need;
			}
		} else {
			size_t cap = (x >> 8) % 8 ? sizeof(out) : (x >> 12) % 64;
			long rc = ring_try_pop(&r, out, cap);
			if (qh == qt) {
				bad += rc != -EAGAIN;
			} else if (lens[qh % N] > cap) {
				bad += rc != -EMSGSIZE;
			} else {
				if (rc != (long)lens[qh % N] ||
				    !pattern_ok(out, lens[qh % N], seeds[qh % N]))
					bad++;
				used -= ring_record_bytes(lens[qh % N]);
				qh++;
			}
		}
	}
	is_int(bad, 0, "200000 random operations agree with the model (%u records through)", qh);
}

/* Two threads: a million records of random lengths through a 4 KiB ring. */
enum { STREAM = 1000000 };
static struct ring sr;
static uint64_t sstore[4096 / 8];

static size_t
stream_len(uint32_t i)
{
	uint32_t h = mix(i);

	return h % 16 ? h >> 8 & 63 : h >> 8 & 4087;
}

static void *
producer(void *arg)
{
	unsigned char buf[4096];

	for (uint32_t i = 0; i < STREAM; i++) {
		size_t len = stream_len(i);
		pattern(buf, len, i);
		if (len >= 4)
			memcpy(buf, &i, 4);
		while (ring_try_push(&sr, buf, len) == -EAGAIN)
			sched_yield();
	}
	return arg;
}

static void
two_threads(void)
{
	pthread_t t;
	unsigned char buf[4096];
	long bad_len = 0, bad_data = 0, spins = 0;

	ring_init(&sr, sstore, sizeof(sstore));
	if (pthread_create(&t, NULL, producer, NULL)) {
		ok(0, "pthread_create");
		return;
	}
	for (uint32_t i = 0; i < STREAM; i++) {
		long n;
		while ((n = ring_try_pop(&sr, buf, sizeof(buf))) == -EAGAIN) {
			spins++;
			sched_yield();
		}
		size_t len = stream_len(i);
		if (n != (long)len) {
			bad_len++;
			continue;
		}
		uint32_t seq = i;
		if (len >= 4) {
			memcpy(&seq, buf, 4);
			pattern(buf, 4, i);
		}
		if (seq != i || !pattern_ok(buf, len, i))
			bad_data++;
	}
	pthread_join(t, NULL);
	diag("consumer found the ring empty %ld times", spins);
	is_int(bad_len, 0, "%d records across threads: every length in order", STREAM);
	is_int(bad_data, 0, "%d records across threads: every sequence number and byte", STREAM);
	is_int(ring_peek_len(&sr), -EAGAIN, "stream ends with the ring empty");
}

int
main(void)
{
	init_checks();
	empty_and_one();
	full_and_fit();
	wrap_everywhere();
	counter_wrap();
	random_model();
	two_threads();
	return done_testing();
}
