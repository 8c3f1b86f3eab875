/*
 * Inter-core channels (toro/channel.h) as an application uses them: bad
 * arguments (EINVAL, EMSGSIZE), EAGAIN from an empty inbox, a message to
 * the caller's own core, EMSGSIZE leaving a message queued, a ring filled
 * with TORO_CHANNEL_NONBLOCK and drained in order, then 100 000 messages
 * ping-ponged between core 0 and core 1, 100 000 streamed from core 1 to
 * core 0 and 100 000 between two threads of core 0 (senders and receivers
 * blocking on full and empty rings), and several cores sending to one
 * receiver with TORO_CPU_ANY.  Every message carries its sequence number
 * and bytes derived from it; lengths vary from 1 to 4096, with some of
 * 16384.  With one core the ping-pong runs within core 0, and the checks
 * that need a second core are left to the -smp 2 and 4 boots.  Prints
 * TAP; exits 0 only if all pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <toro/channel.h>
#include <toro/thread.h>

#define COUNT 100000
#define ANY_EACH 20000

#include "tap.h"

static int ncpu;

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

/* Message i: 1..4096 bytes, every 50th TORO_CHANNEL_MSG_MAX. */
static size_t
msg_len(uint32_t i)
{
	return i % 50 == 49 ? TORO_CHANNEL_MSG_MAX : 1 + mix(i) % 4096;
}

static unsigned char
msg_byte(uint32_t i, size_t j)
{
	return (unsigned char)(mix(i ^ 0x9e3779b9U) + j * 7 + (j >> 8));
}

/* Sequence number first (when it fits), then the pattern. */
static size_t
fill(unsigned char *buf, uint32_t i)
{
	size_t len = msg_len(i);

	for (size_t j = 0; j < len; j++)
		buf[j] = msg_byte(i, j);
	if (len >= 4)
		memcpy(buf, &i, 4);
	return len;
}

static int
intact(const unsigned char *buf, ssize_t n, uint32_t i)
{
	uint32_t seq;

	if (n < 0 || (size_t)n != msg_len(i))
		return 0;
	if (n >= 4) {
		memcpy(&seq, buf, 4);
		if (seq != i)
			return 0;
	}
	for (ssize_t j = n >= 4 ? 4 : 0; j < n; j++)
		if (buf[j] != msg_byte(i, (size_t)j))
			return 0;
	return 1;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
fails_with(long rc, int err)
{
	return rc == -1 && errno == err;
}

static void
bad_arguments(void)
{
	char b[16] = "x";
	static char big[TORO_CHANNEL_MSG_MAX + 1];

	ok(fails_with(toro_channel_send(-2, b, 1, 0), EINVAL), "send to core -2: EINVAL");
	ok(fails_with(toro_channel_send(TORO_CPU_ANY, b, 1, 0), EINVAL),
	   "send to TORO_CPU_ANY: EINVAL");
	ok(fails_with(toro_channel_send(ncpu, b, 1, 0), EINVAL),
	   "send to core %d (not online): EINVAL", ncpu);
	ok(fails_with(toro_channel_send(64, b, 1, 0), EINVAL), "send to core 64: EINVAL");
	ok(fails_with(toro_channel_send(0, b, 0, 0), EINVAL), "send of 0 bytes: EINVAL");
	ok(fails_with(toro_channel_send(0, b, 1, 2), EINVAL), "send with unknown flags: EINVAL");
	ok(fails_with(toro_channel_send(0, big, sizeof(big), 0), EMSGSIZE),
	   "send of TORO_CHANNEL_MSG_MAX + 1 bytes: EMSGSIZE");
	ok(fails_with(toro_channel_recv(ncpu, NULL, b, sizeof(b), 0), EINVAL),
	   "recv from core %d (not online): EINVAL", ncpu);
	ok(fails_with(toro_channel_recv(-2, NULL, b, sizeof(b), 0), EINVAL),
	   "recv from core -2: EINVAL");
	ok(fails_with(toro_channel_recv(0, NULL, b, 0, 0), EINVAL), "recv with cap 0: EINVAL");
	ok(fails_with(toro_channel_recv(0, NULL, b, sizeof(b), 4), EINVAL),
	   "recv with unknown flags: EINVAL");
	ok(fails_with(toro_channel_recv(TORO_CPU_ANY, NULL, b, sizeof(b),
					TORO_CHANNEL_NONBLOCK), EAGAIN),
	   "nonblocking recv from any core, nothing sent: EAGAIN");
	ok(fails_with(toro_channel_recv(0, NULL, b, sizeof(b), TORO_CHANNEL_NONBLOCK), EAGAIN),
	   "nonblocking recv from core 0, nothing sent: EAGAIN");
}

static void
own_core(void)
{
	int me = toro_cpu_current(), from = -5;
	static unsigned char in[TORO_CHANNEL_MSG_MAX], out[TORO_CHANNEL_MSG_MAX];

	ok(toro_channel_send(me, "hello", 5, 0) == 0, "send to the own core");
	memset(out, 0, sizeof(out));
	ok(toro_channel_recv(TORO_CPU_ANY, &from, out, sizeof(out), 0) == 5 &&
	   !memcmp(out, "hello", 5) && from == me,
	   "recv it from any core: 5 bytes, intact, from the own core");

	size_t len = fill(in, 49);	/* TORO_CHANNEL_MSG_MAX bytes */
	ok(toro_channel_send(me, in, len, 0) == 0, "send a largest message to the own core");
	from = -5;
	ok(fails_with(toro_channel_recv(me, &from, out, len - 1, TORO_CHANNEL_NONBLOCK),
		      EMSGSIZE) && from == me,
	   "recv into one byte less: EMSGSIZE, and says who sent it");
	ok(toro_channel_recv(me, NULL, out, len, 0) == (ssize_t)len && intact(out, (ssize_t)len, 49),
	   "the message stayed queued: recv gets it whole");

	/* Fill the own ring without blocking, then drain it in order. */
	uint32_t n = 0;
	int rc;
	while ((rc = toro_channel_send(me, in, fill(in, n), TORO_CHANNEL_NONBLOCK)) == 0)
		n++;
	ok(rc == -1 && errno == EAGAIN && n > 2,
	   "nonblocking sends to the own core fill the ring, then EAGAIN (%u messages)", n);
	uint32_t good = 0;
	for (uint32_t i = 0; i < n; i++) {
		ssize_t got = toro_channel_recv(me, NULL, out, sizeof(out), TORO_CHANNEL_NONBLOCK);
		good += intact(out, got, i);
	}
	ok(good == n, "drained in order and intact (%u of %u)", good, n);
	ok(fails_with(toro_channel_recv(TORO_CPU_ANY, NULL, out, sizeof(out),
					TORO_CHANNEL_NONBLOCK), EAGAIN),
	   "then the inbox is empty");
}

/* Ping-pong: the pinger sends i and waits for it back. */
struct peer {
	int core;		/* the other side */
	long errors;
};

static void *
pinger(void *arg)
{
	struct peer *p = arg;
	static unsigned char out[TORO_CHANNEL_MSG_MAX], back[TORO_CHANNEL_MSG_MAX];

	for (uint32_t i = 0; i < COUNT; i++) {
		int from = -5;
		size_t len = fill(out, i);
		if (toro_channel_send(p->core, out, len, 0)) {
			p->errors++;
			continue;
		}
		ssize_t n = toro_channel_recv(p->core, &from, back, sizeof(back), 0);
		if (!intact(back, n, i) || from != p->core)
			p->errors++;
	}
	return NULL;
}

static void *
ponger(void *arg)
{
	struct peer *p = arg;
	static unsigned char buf[TORO_CHANNEL_MSG_MAX];

	for (uint32_t i = 0; i < COUNT; i++) {
		ssize_t n = toro_channel_recv(p->core, NULL, buf, sizeof(buf), 0);
		if (!intact(buf, n, i))
			p->errors++;
		if (n < 1 || toro_channel_send(p->core, buf, (size_t)n, 0))
			p->errors++;
	}
	return NULL;
}

/*
 * Runs fn_a(a) on core ca and fn_b(b) on core cb, and waits for both.
 * Without the second thread the first would wait forever: give up.
 */
static void
run_pair(int ca, void *(*fn_a)(void *), void *a, int cb, void *(*fn_b)(void *), void *b)
{
	pthread_t ta, tb;
	int err;

	if ((err = toro_thread_spawn(&tb, cb, fn_b, b)) ||
	    (err = toro_thread_spawn(&ta, ca, fn_a, a))) {
		printf("Bail out! toro_thread_spawn: %s\n", strerror(err));
		exit(1);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
}

static void
ping_pong(void)
{
	if (ncpu < 2) {
		/* One core: a thread sends to itself and reads it back. */
		static unsigned char out[TORO_CHANNEL_MSG_MAX], back[TORO_CHANNEL_MSG_MAX];
		long errors = 0;
		int64_t t0 = now_ns();
		for (uint32_t i = 0; i < COUNT; i++) {
			size_t len = fill(out, i);
			if (toro_channel_send(0, out, len, 0) ||
			    !intact(back, toro_channel_recv(0, NULL, back, sizeof(back), 0), i))
				errors++;
		}
		printf("# %d round trips within core 0: %.2f us each\n", COUNT,
		       (now_ns() - t0) / 1e3 / COUNT);
		ok(errors == 0, "%d messages through core 0's own ring, in order and intact (%ld bad)",
		   COUNT, errors);
		return;
	}
	struct peer a = { .core = 1 }, b = { .core = 0 };
	int64_t t0 = now_ns();
	run_pair(0, pinger, &a, 1, ponger, &b);
	printf("# %d round trips core 0 <-> core 1: %.2f us each\n", COUNT,
	       (now_ns() - t0) / 1e3 / COUNT);
	ok(a.errors == 0 && b.errors == 0,
	   "ping-pong of %d messages between cores 0 and 1, in order and intact "
	   "(%ld bad at core 0, %ld at core 1)", COUNT, a.errors, b.errors);
}

/* Streaming: the sender does not wait for answers, so rings fill up. */
struct stream {
	int to, from;
	long errors;
};

static void *
stream_send(void *arg)
{
	struct stream *s = arg;
	static unsigned char buf[TORO_CHANNEL_MSG_MAX];

	for (uint32_t i = 0; i < COUNT; i++)
		if (toro_channel_send(s->to, buf, fill(buf, i), 0))
			s->errors++;
	return NULL;
}

static void *
stream_recv(void *arg)
{
	struct stream *s = arg;
	static unsigned char buf[TORO_CHANNEL_MSG_MAX];

	for (uint32_t i = 0; i < COUNT; i++) {
		int from = -5;
		ssize_t n = toro_channel_recv(s->from, &from, buf, sizeof(buf), 0);
		if (!intact(buf, n, i) || from != s->from)
			s->errors++;
	}
	return NULL;
}

static void
stream(int src, int dst)
{
	struct stream snd = { .to = dst }, rcv = { .from = src };
	int64_t t0 = now_ns();

	run_pair(src, stream_send, &snd, dst, stream_recv, &rcv);
	printf("# %d messages core %d -> core %d: %.2f us each\n", COUNT, src, dst,
	       (now_ns() - t0) / 1e3 / COUNT);
	ok(snd.errors == 0 && rcv.errors == 0,
	   "%d messages streamed from core %d to core %d (a thread on each), "
	   "in order and intact (%ld send errors, %ld bad)", COUNT, src, dst,
	   snd.errors, rcv.errors);
}

/* Every other core sends ANY_EACH tagged messages to core 0. */
static void *
any_send(void *arg)
{
	uint32_t msg[2] = { (uint32_t)toro_cpu_current(), 0 };

	for (; msg[1] < ANY_EACH; msg[1]++)
		if (toro_channel_send(0, msg, sizeof(msg), 0))
			return (void *)1;
	return arg;
}

static void
any_source(void)
{
	pthread_t t[64];
	uint32_t next[64] = { 0 }, msg[2];
	long bad = 0, total = (long)(ncpu - 1) * ANY_EACH;
	int spawned = 0;

	if (ncpu < 2)
		return;		/* the -smp 2 and 4 boots check this */
	for (int c = 1; c < ncpu && c < 64; c++)
		spawned += toro_thread_spawn(&t[c], c, any_send, NULL) == 0;
	for (long k = 0; k < total && spawned == ncpu - 1; k++) {
		int from = -5;
		ssize_t n = toro_channel_recv(TORO_CPU_ANY, &from, msg, sizeof(msg), 0);
		if (n != sizeof(msg) || from < 1 || from >= ncpu || msg[0] != (uint32_t)from ||
		    msg[1] != next[from]++)
			bad++;
	}
	for (int c = 1; c < ncpu && c < 64; c++)
		if (pthread_join(t[c], NULL))
			bad++;
	ok(spawned == ncpu - 1 && bad == 0,
	   "%ld messages from %d cores received with TORO_CPU_ANY, each sender's in order (%ld bad)",
	   total, ncpu - 1, bad);
}

int
main(void)
{
	ncpu = toro_cpu_count();
	printf("# %d cores, running on core %d\n", ncpu, toro_cpu_current());
	bad_arguments();
	own_core();
	ping_pong();
	if (ncpu >= 2)
		stream(1, 0);	/* with one core there is no other to stream from */
	stream(0, 0);
	any_source();
	return tap_end();
}
