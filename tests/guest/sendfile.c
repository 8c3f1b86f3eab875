/*
 * sendfile(2) from an ordinary C program, for tests/guest/sendfile.test.
 * Toro sends a file of its RAM file systems (the root and the initrd are
 * ramfs) to a TCP socket without copying it through a buffer, and copies
 * for every other pair of descriptors; this checks what an application
 * can see of either path:
 *
 *   loopback (the default)  over 127.0.0.1, a reader thread at the far
 *                           end of each connection: 3 MiB byte for byte;
 *                           the offset rules (an offset pointer leaves the
 *                           file position alone and advances by the
 *                           return value, NULL advances the position, a
 *                           count past the end stops there, at the end
 *                           and for count 0 the result is 0); the Linux
 *                           errors of bad calls; copy-on-write (what
 *                           arrives is what the file held when sendfile
 *                           returned, though the file is then overwritten,
 *                           truncated and unlinked before the peer reads a
 *                           byte); a regular file as out_fd; four
 *                           connections sending at once, one thread each,
 *                           spread over the cores.
 *   serve PORT FILE_MIB [COUNT]
 *                           makes FILE_MIB MiB of the pattern below in
 *                           /tmp, listens on 0.0.0.0:PORT, prints
 *                           "sendfile: listening on port PORT", and for
 *                           each of COUNT (3) connections sends the whole
 *                           file with blocking sendfile() calls, then at
 *                           once overwrites and truncates the file (it is
 *                           restored for the next connection), so a kernel
 *                           that kept referring to the file's bytes would
 *                           send the peer the wrong ones.  The host
 *                           (tests/guest/sendfile-host.py) regenerates the
 *                           pattern and compares SHA-256s.
 *
 * The pattern is xorshift64 (shifts 13, 7, 17) from the seed 0x0123456789abcdef
 * (other seeds for the loopback files): each step's 64-bit state, as 8
 * bytes little-endian, is the next 8 bytes of the file.
 *
 * Plain Linux C: `gcc -O2 -Wall -Wextra -pthread sendfile.c` builds it for
 * the host, where the loopback checks pass as well, except copy-on-write:
 * Linux lends the page cache's pages to the socket and does not promise
 * it, so there (when uname() does not say "Toro") that check is reported
 * as a SKIP with what the kernel did.  Prints TAP; exits 0 only if every
 * check passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "tap.h"

#define MIB (1024 * 1024)
#define SERVE_SEED 0x0123456789abcdefULL
#define IO_TIMEOUT_S 60		/* any one read or write on a test socket */

/* ------------------------------------------------------------ helpers */

/* n bytes of the xorshift64 pattern from seed (see the top). */
static void
pattern_fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < n; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		for (size_t k = 0; k < 8 && i + k < n; k++)
			p[i + k] = (unsigned char)(s >> (8 * k));
	}
}

static unsigned char *
pattern_new(size_t n, uint64_t seed)
{
	unsigned char *p = malloc(n ? n : 1);

	if (p)
		pattern_fill(p, n, seed);
	return p;
}

/* The offset of the first byte where a and b differ, or n. */
static size_t
first_difference(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i;
}

static size_t
count_differences(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t d = 0;

	for (size_t i = 0; i < n; i++)
		d += a[i] != b[i];
	return d;
}

static int
pwrite_all(int fd, const unsigned char *p, size_t n, off_t at)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		at += w;
	}
	return 0;
}

/* A new file at path holding n bytes of p, open O_RDWR at 0, or -1. */
static int
make_file(const char *path, const unsigned char *p, size_t n)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);

	/* pwrite leaves the position at 0. */
	if (fd >= 0 && pwrite_all(fd, p, n, 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Undoes make_file: closes fd if it is open and removes path. */
static void
drop_file(int fd, const char *path)
{
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* Every call on s gives up after IO_TIMEOUT_S instead of hanging. */
static void
set_timeouts(int s)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A connected TCP pair over 127.0.0.1: *snd the client, *rcv the server. */
static int
tcp_pair(int *snd, int *rcv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*snd = *rcv = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		goto fail;
	*snd = socket(AF_INET, SOCK_STREAM, 0);
	if (*snd < 0 || connect(*snd, (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	*rcv = accept(l, NULL, NULL);
	if (*rcv < 0)
		goto fail;
	close(l);
	set_timeouts(*snd);
	set_timeouts(*rcv);
	return 0;
fail:
	close(l);
	if (*snd >= 0)
		close(*snd);
	*snd = *rcv = -1;
	return -1;
}

/*
 * The reading end of a connection: a thread that reads to EOF (or an
 * error, or IO_TIMEOUT_S without a byte), keeping the first cap bytes.
 */
struct sink {
	int fd;
	unsigned char *buf;
	size_t cap, len;	/* len: every byte read, kept or not */
	int err;		/* errno of the read that failed, 0 at EOF */
	unsigned char *spill;	/* where the bytes past cap go */
	pthread_t thread;
};

#define SPILL 65536

static void *
sink_run(void *p)
{
	struct sink *k = p;

	for (;;) {
		unsigned char *to = k->spill;
		size_t room = SPILL;
		if (k->len < k->cap) {
			to = k->buf + k->len;
			room = k->cap - k->len;
		}
		ssize_t n = read(k->fd, to, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			k->err = errno;
		if (n <= 0)
			break;
		k->len += (size_t)n;
	}
	return NULL;
}

static int
sink_start(struct sink *k, int fd, size_t cap)
{
	memset(k, 0, sizeof(*k));
	k->fd = fd;
	k->cap = cap;
	k->buf = malloc(cap ? cap : 1);
	k->spill = malloc(SPILL);
	if (k->buf && k->spill && pthread_create(&k->thread, NULL, sink_run, k) == 0)
		return 0;
	free(k->buf);
	free(k->spill);
	k->buf = k->spill = NULL;
	return -1;
}

static void
sink_wait(struct sink *k)
{
	pthread_join(k->thread, NULL);
}

static void
sink_free(struct sink *k)
{
	free(k->buf);
	free(k->spill);
	k->buf = k->spill = NULL;
}

/*
 * sendfile() until count bytes went or a call returned 0 or failed (the
 * errno is left for the caller); the bytes sent.  calls counts the calls
 * that sent something.
 */
static size_t
send_all(int out, int in, off_t *off, size_t count, int *calls)
{
	size_t done = 0;

	*calls = 0;
	errno = 0;
	while (done < count) {
		ssize_t r = sendfile(out, in, off, count - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
		++*calls;
	}
	return done;
}

static int
on_toro(void)
{
	struct utsname u;

	return uname(&u) == 0 && !strcmp(u.sysname, "Toro");
}

/* ------------------------------------------------------------ 3 MiB */

static void
test_big(void)
{
	size_t size = 3 * MIB;
	unsigned char *want = pattern_new(size, 0x5eed0001);
	int fd = want ? make_file("/tmp/sendfile-big", want, size) : -1;
	int s, r, calls;
	struct sink k;

	ok(fd >= 0, "a 3 MiB file in /tmp (fd %d)", fd);
	if (fd < 0 || tcp_pair(&s, &r) || sink_start(&k, r, size)) {
		ok(0, "a TCP connection over 127.0.0.1 and its reader thread");
		free(want);
		return;
	}
	off_t off = 0;
	size_t sent = send_all(s, fd, &off, size, &calls);
	int e = errno;
	shutdown(s, SHUT_WR);
	sink_wait(&k);
	ok(sent == size && off == (off_t)size,
	   "sendfile of 3 MiB to a TCP socket: %zu bytes in %d calls, offset now %lld (errno %d)",
	   sent, calls, (long long)off, e);
	size_t at = first_difference(k.buf, want, k.len < size ? k.len : size);
	ok(k.len == size && at == size && k.err == 0,
	   "the reader received the file byte for byte (%zu bytes, first difference at %zu, read errno %d)",
	   k.len, at, k.err);
	ok(lseek(fd, 0, SEEK_CUR) == 0, "the file position is still 0");
	sink_free(&k);
	close(s);
	close(r);
	drop_file(fd, "/tmp/sendfile-big");
	free(want);
}

/* ------------------------------------------------------------ offsets */

static void
test_offsets(void)
{
	size_t size = 100000;
	unsigned char *file = pattern_new(size, 0x5eed0002);
	unsigned char *want = malloc(size);
	int fd = file ? make_file("/tmp/sendfile-small", file, size) : -1;
	size_t wlen = 0;
	int s, r;
	struct sink k;
	ssize_t n;
	off_t off;

	if (fd < 0 || !want || tcp_pair(&s, &r) || sink_start(&k, r, 2 * size)) {
		ok(0, "a 100000-byte file, a connection and its reader (fd %d)", fd);
		free(file);
		free(want);
		return;
	}
#define EXPECT(from, len) (memcpy(want + wlen, file + (from), (len)), wlen += (len))

	off = 1000;
	n = sendfile(s, fd, &off, 5000);
	ok(n == 5000 && off == 6000 && lseek(fd, 0, SEEK_CUR) == 0,
	   "with an offset pointer: returns 5000 (%zd), *offset 1000 -> %lld, file position stays 0",
	   n, (long long)off);
	if (n > 0)
		EXPECT(1000, (size_t)n);

	lseek(fd, 200, SEEK_SET);
	n = sendfile(s, fd, NULL, 300);
	ok(n == 300 && lseek(fd, 0, SEEK_CUR) == 500,
	   "with NULL: returns 300 (%zd), the file position moves 200 -> %lld",
	   n, (long long)lseek(fd, 0, SEEK_CUR));
	if (n > 0)
		EXPECT(200, (size_t)n);

	off = (off_t)size - 100;
	n = sendfile(s, fd, &off, 1000);
	ok(n == 100 && off == (off_t)size,
	   "a count past the end with an offset pointer: only the 100 bytes to EOF (%zd), *offset %lld",
	   n, (long long)off);
	if (n > 0)
		EXPECT(size - 100, (size_t)n);

	lseek(fd, -50, SEEK_END);
	n = sendfile(s, fd, NULL, 1 << 20);
	ok(n == 50 && lseek(fd, 0, SEEK_CUR) == (off_t)size,
	   "a count past the end with NULL: only the 50 bytes to EOF (%zd), position at the end",
	   n);
	if (n > 0)
		EXPECT(size - 50, (size_t)n);

	n = sendfile(s, fd, NULL, 10);
	ok(n == 0 && lseek(fd, 0, SEEK_CUR) == (off_t)size,
	   "at EOF with NULL: returns 0 (%zd)", n);
	off = (off_t)size;
	n = sendfile(s, fd, &off, 10);
	ok(n == 0 && off == (off_t)size, "at EOF with an offset pointer: returns 0 (%zd), *offset unchanged",
	   n);
	off = (off_t)size + 12345;
	n = sendfile(s, fd, &off, 10);
	ok(n == 0 && off == (off_t)size + 12345,
	   "past EOF with an offset pointer: returns 0 (%zd), *offset unchanged", n);

	off = 10;
	n = sendfile(s, fd, &off, 0);
	ok(n == 0 && off == 10, "count 0 with an offset pointer: returns 0 (%zd), *offset unchanged (%lld)",
	   n, (long long)off);
	lseek(fd, 10, SEEK_SET);
	n = sendfile(s, fd, NULL, 0);
	ok(n == 0 && lseek(fd, 0, SEEK_CUR) == 10, "count 0 with NULL: returns 0 (%zd), position unchanged",
	   n);
#undef EXPECT

	shutdown(s, SHUT_WR);
	sink_wait(&k);
	size_t at = first_difference(k.buf, want, k.len < wlen ? k.len : wlen);
	ok(k.len == wlen && at == wlen && k.err == 0,
	   "the reader got exactly those ranges, in order (%zu bytes of %zu, first difference at %zu)",
	   k.len, wlen, at);
	sink_free(&k);
	close(s);
	close(r);
	drop_file(fd, "/tmp/sendfile-small");
	free(file);
	free(want);
}

/* ------------------------------------------------------------ errors */

static void
test_errors(void)
{
	unsigned char data[4096];
	int s = -1, r = -1, fd, wr, rd;
	off_t off;
	struct sink k;

	/* fd reads and writes; wr only writes, rd only reads. */
	pattern_fill(data, sizeof(data), 0x5eed0003);
	fd = make_file("/tmp/sendfile-err", data, sizeof(data));
	wr = open("/tmp/sendfile-err", O_WRONLY);
	rd = open("/tmp/sendfile-err", O_RDONLY);
	if (fd < 0 || wr < 0 || rd < 0 || tcp_pair(&s, &r) || sink_start(&k, r, 0)) {
		ok(0, "a file opened three ways, a connection and its reader (fd %d, %d, %d)",
		   fd, wr, rd);
		goto out;
	}

	FAILS(sendfile(s, 99, NULL, 10), EBADF);
	FAILS(sendfile(99, fd, NULL, 10), EBADF);
	FAILS(sendfile(-1, fd, NULL, 10), EBADF);
	FAILS(sendfile(s, -1, NULL, 10), EBADF);
	FAILS(sendfile(s, wr, NULL, 10), EBADF);
	FAILS(sendfile(rd, fd, NULL, 10), EBADF);
	off = -1;
	FAILS(sendfile(s, fd, &off, 10), EINVAL);
	ok(off == -1, "a failed call leaves *offset alone (%lld)", (long long)off);
	/* Linux: in_fd must support mmap-like reads; a socket does not. */
	FAILS(sendfile(s, r, NULL, 10), EINVAL);
	FAILS(sendfile(s, fd, (off_t *)8, 10), EFAULT);
	ok(lseek(fd, 0, SEEK_CUR) == 0, "none of them moved the file position");

	shutdown(s, SHUT_WR);
	sink_wait(&k);
	ok(k.len == 0 && k.err == 0, "none of them sent a byte (%zu arrived)", k.len);
	sink_free(&k);
out:;
	int fds[] = { s, r, fd, wr, rd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	unlink("/tmp/sendfile-err");
}

/* ------------------------------------------------------------ copy-on-write */

/*
 * The peer reads nothing until sendfile has queued all it will take
 * without blocking; then the file's bytes are overwritten, the file is
 * truncated to 0 and unlinked, and a new file of the same size takes the
 * memory that may have been freed.  Only then does the peer read.
 */
static void
test_cow(void)
{
	size_t size = MIB;
	unsigned char *orig = pattern_new(size, 0x5eed0004);
	unsigned char *other = pattern_new(size, 0x5eed0005);
	int fd = orig ? make_file("/tmp/sendfile-cow", orig, size) : -1;
	int s, r, calls, fill = -1;
	struct sink k;

	if (fd < 0 || !other || tcp_pair(&s, &r)) {
		ok(0, "a 1 MiB file and a connection (fd %d)", fd);
		goto out;
	}
	fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
	off_t off = 0;
	size_t n = send_all(s, fd, &off, size, &calls);
	int e = errno;
	ok(n > 0 && off == (off_t)n && (n == size || e == EAGAIN),
	   "non-blocking sendfile while the peer does not read: %zu bytes in %d calls, then %s",
	   n, calls, n == size ? "the whole file" : e == EAGAIN ? "EAGAIN" : strerror(e));

	int changed = pwrite_all(fd, other, size, 0) == 0;
	changed &= ftruncate(fd, 0) == 0;
	changed &= unlink("/tmp/sendfile-cow") == 0;
	close(fd);
	fd = -1;
	fill = make_file("/tmp/sendfile-cow-fill", other, size);
	ok(changed && fill >= 0, "then the file is overwritten, truncated, unlinked, its memory reused");

	fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
	shutdown(s, SHUT_WR);
	if (sink_start(&k, r, size)) {
		ok(0, "a reader thread");
		goto out_sock;
	}
	sink_wait(&k);
	size_t m = k.len < n ? k.len : n;
	size_t at = first_difference(k.buf, orig, m);
	size_t diff = count_differences(k.buf, orig, m);
	if (on_toro())
		ok(k.len == n && at == n && k.err == 0,
		   "copy-on-write: the peer got the %zu bytes the file held when sendfile returned (%zu arrived, %zu differ, the first at %zu)",
		   n, k.len, diff, at);
	else
		ok(1, "copy-on-write: %zu of %zu bytes arrived, %zu differ from what sendfile saw # SKIP not promised by %s",
		   k.len, n, diff, "Linux (it lends the page cache to the socket)");
	sink_free(&k);
out_sock:
	close(s);
	close(r);
out:
	drop_file(fd, "/tmp/sendfile-cow");
	drop_file(fill, "/tmp/sendfile-cow-fill");
	free(orig);
	free(other);
}

/* ------------------------------------------------------------ to a file */

static void
test_to_file(void)
{
	size_t size = 300000, a = 100000, b = 200000;
	unsigned char *file = pattern_new(size, 0x5eed0006);
	unsigned char *got = malloc(size);
	int in = file ? make_file("/tmp/sendfile-in", file, size) : -1;
	int out = open("/tmp/sendfile-out", O_CREAT | O_TRUNC | O_WRONLY, 0644);
	int calls;

	if (in < 0 || out < 0 || !got) {
		ok(0, "two files in /tmp (fd %d, %d)", in, out);
		goto out;
	}
	/* [0, a) through an offset pointer, then [b, size) from the position. */
	off_t off = 0;
	size_t n1 = send_all(out, in, &off, a, &calls);
	ok(n1 == a && off == (off_t)a && lseek(out, 0, SEEK_CUR) == (off_t)a &&
	   lseek(in, 0, SEEK_CUR) == 0,
	   "sendfile to a regular file: %zu bytes, *offset %lld, out_fd's position follows, in_fd's stays",
	   n1, (long long)off);
	lseek(in, (off_t)b, SEEK_SET);
	size_t n2 = send_all(out, in, NULL, size, &calls);
	ok(n2 == size - b && lseek(in, 0, SEEK_CUR) == (off_t)size &&
	   lseek(out, 0, SEEK_CUR) == (off_t)(a + size - b),
	   "then from in_fd's position to its end: %zu bytes, both positions advance", n2);
	close(out);

	out = open("/tmp/sendfile-out", O_RDONLY);
	struct stat st;
	ssize_t r = out >= 0 && fstat(out, &st) == 0 ? read(out, got, size) : -1;
	size_t len = a + size - b;
	ok(r == (ssize_t)len && st.st_size == (off_t)len && !memcmp(got, file, a) &&
	   !memcmp(got + a, file + b, size - b),
	   "the written file holds exactly those bytes (%zd read, want %zu)", r, len);
out:
	drop_file(in, "/tmp/sendfile-in");
	drop_file(out, "/tmp/sendfile-out");
	free(file);
	free(got);
}

/* ------------------------------------------------------------ concurrency */

#define SENDERS 4

struct sender {
	int index, cpu_wanted, cpu_ran;
	int in, snd, rcv;
	size_t sent;
	int calls, err;
	struct sink sink;
	pthread_t thread;
};

static void *
sender_run(void *p)
{
	struct sender *t = p;

	if (t->cpu_wanted >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(t->cpu_wanted, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	t->cpu_ran = sched_getcpu();
	t->sent = send_all(t->snd, t->in, NULL, MIB, &t->calls);
	t->err = errno;
	shutdown(t->snd, SHUT_WR);
	return NULL;
}

static void
test_concurrent(void)
{
	struct sender t[SENDERS];
	cpu_set_t allowed;
	int cpus[CPU_SETSIZE], ncpu = 0;
	char path[64];

	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &allowed))
				cpus[ncpu++] = c;

	memset(t, 0, sizeof(t));
	int ready = 1;
	for (int i = 0; i < SENDERS; i++) {
		unsigned char *p = pattern_new(MIB, 0x5eed0100 + (uint64_t)i);
		t[i].index = i;
		t[i].cpu_wanted = ncpu > 1 ? cpus[i % ncpu] : -1;
		snprintf(path, sizeof(path), "/tmp/sendfile-conc-%d", i);
		t[i].in = p ? make_file(path, p, MIB) : -1;
		free(p);
		if (t[i].in < 0 || tcp_pair(&t[i].snd, &t[i].rcv) ||
		    sink_start(&t[i].sink, t[i].rcv, MIB)) {
			ready = 0;
			break;
		}
	}
	ok(ready, "%d files of 1 MiB, %d connections, %d reader threads", SENDERS, SENDERS, SENDERS);
	if (!ready)
		return;	/* leaks, but the next checks would mean nothing */
	for (int i = 0; i < SENDERS; i++)
		pthread_create(&t[i].thread, NULL, sender_run, &t[i]);
	for (int i = 0; i < SENDERS; i++) {
		pthread_join(t[i].thread, NULL);
		sink_wait(&t[i].sink);
	}

	unsigned long ran = 0;
	for (int i = 0; i < SENDERS; i++) {
		unsigned char *want = pattern_new(MIB, 0x5eed0100 + (uint64_t)i);
		struct sink *k = &t[i].sink;
		size_t at = want ? first_difference(k->buf, want, k->len < MIB ? k->len : MIB) : 0;
		ok(t[i].sent == MIB && k->len == MIB && at == MIB && k->err == 0,
		   "sender %d on cpu %d: sent %zu bytes in %d calls (errno %d); its reader got %zu, first difference at %zu",
		   i, t[i].cpu_ran, t[i].sent, t[i].calls, t[i].err, k->len, at);
		if (t[i].cpu_ran >= 0 && t[i].cpu_ran < 64)
			ran |= 1UL << t[i].cpu_ran;
		free(want);
		sink_free(k);
		close(t[i].snd);
		close(t[i].rcv);
		snprintf(path, sizeof(path), "/tmp/sendfile-conc-%d", i);
		drop_file(t[i].in, path);
	}
	if (ncpu > 1)
		ok(__builtin_popcountl(ran) >= 2, "the senders ran on %d cores (mask %#lx)",
		   __builtin_popcountl(ran), ran);
}

/* ------------------------------------------------------------ serve */

static int
serve(int port, int mib, int count)
{
	size_t size = (size_t)mib * MIB;
	unsigned char *want = pattern_new(size, SERVE_SEED);
	unsigned char *junk = pattern_new(size, ~SERVE_SEED);
	const char *path = "/tmp/sendfile-serve";
	int fd = want && junk ? make_file(path, want, size) : -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	ok(fd >= 0, "a %d MiB file of the pattern in %s", mib, path);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 8)) {
		ok(0, "listening on 0.0.0.0:%d (errno %d)", port, errno);
		return tap_end();
	}
	printf("sendfile: listening on port %d\n", port);
	fflush(stdout);

	for (int i = 1; i <= count; i++) {
		int restored = 1;
		if (i > 1)
			restored = pwrite_all(fd, want, size, 0) == 0;
		struct pollfd p = { .fd = l, .events = POLLIN };
		if (poll(&p, 1, 120000) != 1) {
			ok(0, "connection %d arrives within 120 s", i);
			break;
		}
		int c = accept(l, NULL, NULL);
		if (c < 0) {
			ok(0, "connection %d: accept (errno %d)", i, errno);
			continue;
		}
		set_timeouts(c);
		/* Odd connections through an offset pointer, even ones from the position. */
		off_t off = 0;
		int calls, by_pointer = i % 2;
		lseek(fd, 0, SEEK_SET);
		size_t sent = send_all(c, fd, by_pointer ? &off : NULL, size, &calls);
		int e = errno;
		/*
		 * At once, while the last bytes are still on their way: a kernel
		 * that sent from the file's memory instead of a snapshot of it
		 * would now send these.
		 */
		int spoiled = pwrite_all(fd, junk, size, 0) == 0 && ftruncate(fd, 0) == 0;
		ok(restored && sent == size && spoiled,
		   "connection %d: sendfile (%s) sent %zu of %zu bytes in %d calls (errno %d), then the file was overwritten and truncated",
		   i, by_pointer ? "offset pointer" : "file position", sent, size, calls, e);
		close(c);
	}
	close(l);
	drop_file(fd, path);
	free(want);
	free(junk);
	return tap_end();
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "serve")) {
		if (argc < 4 || atoi(argv[2]) <= 0 || atoi(argv[3]) <= 0) {
			fprintf(stderr, "usage: %s serve PORT FILE_MIB [COUNT]\n", argv[0]);
			return 2;
		}
		return serve(atoi(argv[2]), atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 3);
	}
	if (argc > 1 && strcmp(argv[1], "loopback")) {
		fprintf(stderr, "usage: %s [loopback | serve PORT FILE_MIB [COUNT]]\n", argv[0]);
		return 2;
	}
	test_big();
	test_offsets();
	test_errors();
	test_cow();
	test_to_file();
	test_concurrent();
	return tap_end();
}
