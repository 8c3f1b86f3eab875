/* qmp.c: sampling through QEMU's QMP socket, for a QEMU whose gdbstub is
 * taken (or not enabled).  Per sample: `stop`, then for each vCPU the HMP
 * command `info registers` through `human-monitor-command` with its
 * cpu-index (QMP itself has no register query), stack memory through the
 * native `pmemsave` command into a scratch file (the guest is identity
 * mapped, so physical = virtual), then `cont`.  It is slower than the
 * gdbstub (HMP formats every register as text) and needs QEMU to be able
 * to write the scratch file, i.e. to run on this machine.  It is not a
 * general QMP library: replies are matched by their first key, events are
 * skipped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "prof.h"

#define QMP_TIMEOUT_MS 10000

struct qmp {
	struct target t;
	int fd;
	int gone;
	char in[65536];
	size_t inlen;
	char line[65536];	/* the last reply */
	char scratch[64];	/* pmemsave's file */
};

/* Reads one line (one JSON message) into q->line.  0, 1 gone, -1 error. */
static int
read_line(struct qmp *q)
{
	for (;;) {
		char *nl = memchr(q->in, '\n', q->inlen);
		if (nl) {
			size_t n = nl - q->in;
			size_t k = n < sizeof q->line - 1 ? n : sizeof q->line - 1;
			memcpy(q->line, q->in, k);
			q->line[k] = 0;
			memmove(q->in, nl + 1, q->inlen - n - 1);
			q->inlen -= n + 1;
			return 0;
		}
		if (q->inlen == sizeof q->in)
			q->inlen = 0;	/* an absurd line: drop it */
		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		int r;
		while ((r = poll(&p, 1, QMP_TIMEOUT_MS)) < 0 && errno == EINTR)
			;
		if (r == 0) {
			snprintf(q->t.err, sizeof q->t.err, "QMP did not answer within %d s",
				 QMP_TIMEOUT_MS / 1000);
			return -1;
		}
		ssize_t n = r < 0 ? -1 : read(q->fd, q->in + q->inlen, sizeof q->in - q->inlen);
		if (n <= 0) {
			q->gone = 1;
			return 1;
		}
		q->inlen += n;
	}
}

/* Sends a command and waits for its return; 0, 1 gone, -1 error. */
static int
command(struct qmp *q, const char *json)
{
	size_t len = strlen(json);

	if (q->gone)
		return 1;
	if (send(q->fd, json, len, MSG_NOSIGNAL) != (ssize_t)len || send(q->fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		q->gone = 1;
		return 1;
	}
	for (;;) {
		int r = read_line(q);
		if (r)
			return r;
		if (strstr(q->line, "\"event\"")) {
			if (strstr(q->line, "\"SHUTDOWN\""))
				q->gone = 1;
			continue;
		}
		if (!strncmp(q->line, "{\"return\"", 9))
			return 0;
		if (!strncmp(q->line, "{\"error\"", 8)) {
			snprintf(q->t.err, sizeof q->t.err, "QMP: %.200s", q->line);
			return -1;
		}
	}
}

static int
qmp_stop(struct target *t)
{
	struct qmp *q = (struct qmp *)t;

	return q->gone ? 1 : command(q, "{\"execute\":\"stop\"}");
}

static int
qmp_resume(struct target *t)
{
	struct qmp *q = (struct qmp *)t;

	return q->gone ? 1 : command(q, "{\"execute\":\"cont\"}");
}

static int
qmp_nmi(struct target *t)
{
	struct qmp *q = (struct qmp *)t;

	return q->gone ? 1 : command(q, "{\"execute\":\"inject-nmi\"}");
}

/* "RIP=ffffffff81000000" in HMP's text, where newlines are \r\n escapes. */
static int
reg_value(const char *text, const char *name, uint64_t *v)
{
	const char *p = strstr(text, name);

	if (!p)
		return -1;
	*v = strtoull(p + strlen(name), NULL, 16);
	return 0;
}

static int
qmp_regs(struct target *t, struct regs *out)
{
	struct qmp *q = (struct qmp *)t;
	char cmd[200];

	for (int i = 0; i < t->ncpus; i++) {
		snprintf(cmd, sizeof cmd,
			 "{\"execute\":\"human-monitor-command\",\"arguments\":"
			 "{\"command-line\":\"info registers\",\"cpu-index\":%d}}", i);
		int r = command(q, cmd);
		if (r)
			return r;
		/* A CPU not yet in long mode (an AP still starting) shows
		 * EIP=...: no sample from it this round. */
		if (reg_value(q->line, "RIP=", &out[i].rip) || reg_value(q->line, "RSP=", &out[i].rsp) ||
		    reg_value(q->line, "RBP=", &out[i].rbp))
			out[i] = (struct regs){0, 0, 0};
	}
	return 0;
}

static int
qmp_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
	struct qmp *q = (struct qmp *)t;
	char cmd[300];

	snprintf(cmd, sizeof cmd,
		 "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":%llu,\"size\":%zu,\"filename\":\"%s\"}}",
		 (unsigned long long)addr, len, q->scratch);
	if (command(q, cmd))
		return -1;
	int fd = open(q->scratch, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, buf, len, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void
qmp_close(struct target *t)
{
	struct qmp *q = (struct qmp *)t;

	if (!q->gone)
		command(q, "{\"execute\":\"cont\"}");	/* never leave the VM stopped */
	unlink(q->scratch);
	close(q->fd);
	free(q);
}

static int
dial(const char *path, double wait_s, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timespec t0, now;
	int e;

	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "QMP socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		e = errno;
		if (fd >= 0)
			close(fd);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 >= wait_s)
			break;
		usleep(50000);
	}
	snprintf(err, errlen,
		 "cannot connect to the QMP socket %s: %s (is QEMU running with "
		 "-qmp unix:%s,server=on,wait=off, as toro-run --qmp %s starts it?)",
		 path, strerror(e), path, path);
	return -1;
}

struct target *
qmp_connect(const char *path, double wait_s, char *err, size_t errlen)
{
	int fd = dial(path, wait_s, err, errlen);

	if (fd < 0)
		return NULL;
	struct qmp *q = calloc(1, sizeof *q);
	if (!q) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->fd = fd;
	q->t = (struct target){.name = "qmp", .stop = qmp_stop, .regs = qmp_regs,
			       .read = qmp_read, .resume = qmp_resume, .nmi = qmp_nmi,
			       .close = qmp_close,
			       .read_max = 4096};
	snprintf(q->scratch, sizeof q->scratch, "/tmp/toro-prof-%d.mem", (int)getpid());
	if (read_line(q) || !strstr(q->line, "\"QMP\"") ||
	    command(q, "{\"execute\":\"qmp_capabilities\"}")) {
		snprintf(err, errlen, "%s: not a QMP socket (%.100s)", path, q->line);
		goto fail;
	}
	if (command(q, "{\"execute\":\"query-cpus-fast\"}")) {
		snprintf(err, errlen, "%s: query-cpus-fast failed", path);
		goto fail;
	}
	for (const char *p = q->line; (p = strstr(p, "\"cpu-index\"")); p++)
		q->t.ncpus++;
	if (q->t.ncpus == 0 || q->t.ncpus > PROF_MAX_CPUS) {
		snprintf(err, errlen, "%s: QMP lists %d CPUs", path, q->t.ncpus);
		goto fail;
	}
	return &q->t;
fail:
	close(fd);
	free(q);
	return NULL;
}
