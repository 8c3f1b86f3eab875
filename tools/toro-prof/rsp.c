/* rsp.c: a client for QEMU's gdbstub, the GDB remote serial protocol over
 * TCP, with just what sampling needs: stop the VM (^C), list the vCPUs
 * (qfThreadInfo/qsThreadInfo: QEMU shows each vCPU as a thread), read each
 * one's registers (Hg + g, pipelined for all vCPUs in one write), read
 * memory (m) and continue (c).  Acknowledgements ride along with the next
 * command, so they cost no round trip.  It is not a debugger: no
 * breakpoints, no non-stop mode; its one write sets the kernel's
 * sampling rate (--in-guest).  Note that QEMU pauses the VM
 * when a client connects; the recorder resumes it once it has checked the
 * image, and detaching (D) lets it run on. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "prof.h"

#define RSP_TIMEOUT_MS 10000
#define RSP_MAX_PACKET 16384

struct rsp {
	struct target t;
	int fd;
	int gone;		/* the guest exited (W/X packet or EOF) */
	char in[65536];
	size_t inpos, inlen;
	char pkt[RSP_MAX_PACKET + 1];	/* the last packet received */
	char out[RSP_MAX_PACKET];
	size_t outlen;
	char tids[PROF_MAX_CPUS][16];
	unsigned acks;		/* packets received and not yet acknowledged */
};

static int
fill(struct rsp *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r;

	while ((r = poll(&p, 1, RSP_TIMEOUT_MS)) < 0 && errno == EINTR)
		;	/* a ^C ends the recording after this round */

	if (r == 0) {
		snprintf(c->t.err, sizeof c->t.err, "the gdbstub did not answer within %d s",
			 RSP_TIMEOUT_MS / 1000);
		return -1;
	}
	ssize_t n = r < 0 ? -1 : read(c->fd, c->in, sizeof c->in);
	if (n <= 0) {
		if (n < 0 && errno != ECONNRESET) {
			snprintf(c->t.err, sizeof c->t.err, "gdbstub: %s", strerror(errno));
			return -1;
		}
		c->gone = 1;	/* QEMU exited */
		return 1;
	}
	c->inpos = 0;
	c->inlen = n;
	return 0;
}

static int
getbyte(struct rsp *c)
{
	if (c->inpos == c->inlen) {
		int r = fill(c);
		if (r)
			return r < 0 ? -1 : -2;
	}
	return (unsigned char)c->in[c->inpos++];
}

/* Receives one packet into c->pkt (run-length encoding expanded).
 * 0, 1 if the guest has gone, -1 on error. */
static int
recv_packet(struct rsp *c)
{
	int ch;

	do {
		ch = getbyte(c);
		if (ch < 0)
			return ch == -2 ? 1 : -1;
	} while (ch != '$');	/* skip acks and noise */
	size_t n = 0;
	for (;;) {
		ch = getbyte(c);
		if (ch < 0)
			return ch == -2 ? 1 : -1;
		if (ch == '#')
			break;
		if (ch == '*' && n > 0) {	/* run length: repeat ch-29 times */
			int rep = getbyte(c);
			if (rep < 0)
				return rep == -2 ? 1 : -1;
			for (int k = 0; k < rep - 29 && n < RSP_MAX_PACKET; k++, n++)
				c->pkt[n] = c->pkt[n - 1];
			continue;
		}
		if (n < RSP_MAX_PACKET)
			c->pkt[n++] = ch;
	}
	for (int k = 0; k < 2; k++)	/* checksum: TCP is reliable enough */
		if ((ch = getbyte(c)) < 0)
			return ch == -2 ? 1 : -1;
	c->pkt[n] = 0;
	c->acks++;
	if (c->pkt[0] == 'W' || c->pkt[0] == 'X') {
		c->gone = 1;
		return 1;
	}
	return 0;
}

static void
queue(struct rsp *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
queue(struct rsp *c, const char *fmt, ...)
{
	char body[256];
	va_list ap;
	unsigned sum = 0;

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	for (const char *p = body; *p; p++)
		sum += (unsigned char)*p;
	for (; c->acks && c->outlen < sizeof c->out - 1; c->acks--)
		c->out[c->outlen++] = '+';
	int n = snprintf(c->out + c->outlen, sizeof c->out - c->outlen, "$%s#%02x", body, sum & 0xff);
	if (n > 0 && (size_t)n < sizeof c->out - c->outlen)
		c->outlen += n;
}

static int
flush(struct rsp *c)
{
	size_t off = 0;

	while (off < c->outlen) {
		ssize_t n = send(c->fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			c->outlen = 0;
			if (errno == EPIPE || errno == ECONNRESET) {
				c->gone = 1;
				return 1;
			}
			snprintf(c->t.err, sizeof c->t.err, "gdbstub: %s", strerror(errno));
			return -1;
		}
		off += n;
	}
	c->outlen = 0;
	return 0;
}

/* Receives the reply to a command: a stop reply (QEMU sends one
 * unasked when a client connects) is never one. */
static int
recv_reply(struct rsp *c)
{
	int r;

	while (!(r = recv_packet(c)) && (c->pkt[0] == 'T' || c->pkt[0] == 'S'))
		;
	return r;
}

/* Sends one packet and receives its reply. */
static int
transact(struct rsp *c, const char *cmd)
{
	queue(c, "%s", cmd);
	int r = flush(c);
	return r ? r : recv_reply(c);
}

static uint64_t
hex_le64(const char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--) {
		char b[3] = {p[2 * i], p[2 * i + 1], 0};
		v = (v << 8) | strtoul(b, NULL, 16);
	}
	return v;
}

static int
rsp_stop(struct target *t)
{
	struct rsp *c = (struct rsp *)t;

	if (c->gone)
		return 1;
	for (c->outlen = 0; c->acks && c->outlen < sizeof c->out - 1; c->acks--)
		c->out[c->outlen++] = '+';
	c->out[c->outlen++] = 0x03;
	int r = flush(c);
	while (!r) {
		r = recv_packet(c);
		if (!r && (c->pkt[0] == 'T' || c->pkt[0] == 'S'))
			return 0;
	}
	return r;
}

static int
rsp_regs(struct target *t, struct regs *out)
{
	struct rsp *c = (struct rsp *)t;

	for (int i = 0; i < t->ncpus; i++) {
		queue(c, "Hg%s", c->tids[i]);
		queue(c, "g");
	}
	int r = flush(c);
	for (int i = 0; !r && i < t->ncpus; i++) {
		if ((r = recv_reply(c)))
			break;
		if (strcmp(c->pkt, "OK")) {
			snprintf(t->err, sizeof t->err, "gdbstub refused thread %s: %.64s", c->tids[i], c->pkt);
			return -1;
		}
		if ((r = recv_reply(c)))
			break;
		if (strlen(c->pkt) < 17 * 16) {
			snprintf(t->err, sizeof t->err, "short register packet from the gdbstub (%zu bytes)",
				 strlen(c->pkt));
			return -1;
		}
		out[i].rbp = hex_le64(c->pkt + 6 * 16);
		out[i].rsp = hex_le64(c->pkt + 7 * 16);
		out[i].rip = hex_le64(c->pkt + 16 * 16);
	}
	return r;
}

static int
rsp_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	struct rsp *c = (struct rsp *)t;
	char cmd[64];

	snprintf(cmd, sizeof cmd, "m%llx,%zx", (unsigned long long)addr, len);
	if (transact(c, cmd))
		return -1;
	if (strlen(c->pkt) != 2 * len)
		return -1;	/* Exx: not mapped */
	unsigned char *b = buf;
	for (size_t i = 0; i < len; i++) {
		char h[3] = {c->pkt[2 * i], c->pkt[2 * i + 1], 0};
		b[i] = strtoul(h, NULL, 16);
	}
	return 0;
}

static int
rsp_write(struct target *t, uint64_t addr, const void *buf, size_t len)
{
	struct rsp *c = (struct rsp *)t;
	char cmd[200];
	const unsigned char *b = buf;

	if (len > 64)
		return -1;
	int n = snprintf(cmd, sizeof cmd, "M%llx,%zx:", (unsigned long long)addr, len);
	for (size_t i = 0; i < len; i++)
		n += snprintf(cmd + n, sizeof cmd - n, "%02x", b[i]);
	if (transact(c, cmd))
		return -1;
	return strcmp(c->pkt, "OK") ? -1 : 0;
}

/* The monitor's `nmi` through qRcmd (hex-encoded); QEMU answers with
 * console output packets ("O...") and then OK. */
static int
rsp_nmi(struct target *t)
{
	struct rsp *c = (struct rsp *)t;
	const char *cmd = "nmi";
	char pkt[64] = "qRcmd,";

	for (size_t i = 0; cmd[i]; i++)
		snprintf(pkt + strlen(pkt), sizeof pkt - strlen(pkt), "%02x", (unsigned char)cmd[i]);
	int r = transact(c, pkt);
	while (!r && c->pkt[0] == 'O' && strcmp(c->pkt, "OK"))
		r = recv_reply(c);
	if (r)
		return r;
	if (strcmp(c->pkt, "OK")) {
		snprintf(t->err, sizeof t->err, "gdbstub refused the monitor's nmi: %.64s", c->pkt);
		return -1;
	}
	return 0;
}

static int
rsp_resume(struct target *t)
{
	struct rsp *c = (struct rsp *)t;

	if (c->gone)
		return 1;
	queue(c, "c");
	return flush(c);
}

static void
rsp_close(struct target *t)
{
	struct rsp *c = (struct rsp *)t;

	if (!c->gone) {
		queue(c, "D");	/* detach: QEMU lets the VM run on */
		flush(c);
	}
	close(c->fd);
	free(c);
}

static int
list_threads(struct rsp *c)
{
	const char *q = "qfThreadInfo";

	c->t.ncpus = 0;
	for (;;) {
		if (transact(c, q))
			return -1;
		if (c->pkt[0] == 'l')
			break;
		if (c->pkt[0] != 'm')
			return -1;
		for (char *s = c->pkt + 1, *tok; (tok = strsep(&s, ","));)
			if (*tok && c->t.ncpus < PROF_MAX_CPUS)
				snprintf(c->tids[c->t.ncpus++], sizeof c->tids[0], "%s", tok);
		q = "qsThreadInfo";
	}
	return c->t.ncpus ? 0 : -1;
}

static int
dial(const char *hostport, double wait_s, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	const char *port = colon ? colon + 1 : hostport;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct timespec t0, now;

	snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - hostport) : 0, hostport);
	if (!*host)
		snprintf(host, sizeof host, "127.0.0.1");
	int e = getaddrinfo(host, port, &hints, &ai);
	if (e) {
		snprintf(err, errlen, "gdbstub address %s: %s", hostport, gai_strerror(e));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			freeaddrinfo(ai);
			return fd;
		}
		e = errno;
		if (fd >= 0)
			close(fd);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 >= wait_s)
			break;
		usleep(50000);
	}
	freeaddrinfo(ai);
	snprintf(err, errlen,
		 "cannot connect to the gdbstub at %s:%s: %s (is QEMU running with "
		 "-gdb tcp::%s, as toro-run --gdb=%s starts it?)", host, port, strerror(e), port, port);
	return -1;
}

struct target *
rsp_connect(const char *hostport, double wait_s, char *err, size_t errlen)
{
	int fd = dial(hostport, wait_s, err, errlen);

	if (fd < 0)
		return NULL;
	struct rsp *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->t = (struct target){.name = "gdb", .stop = rsp_stop, .regs = rsp_regs,
			       .read = rsp_read, .write = rsp_write, .resume = rsp_resume, .nmi = rsp_nmi,
			       .close = rsp_close,
			       .read_max = 1024};
	/* QEMU 7.2 has no no-ack mode: acknowledge each packet, batched with
	 * the next command (QEMU's system-mode stub does not wait for it). */
	int r = 0;
	if (r || list_threads(c)) {
		snprintf(err, errlen, "%s: the gdbstub did not list its vCPUs", hostport);
		goto fail;
	}
	return &c->t;
fail:
	close(fd);
	free(c);
	return NULL;
}
