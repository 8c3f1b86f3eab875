/*
 * bench-timer: runs a command (a QEMU guest) with its standard output on a
 * pipe and reports, on CLOCK_MONOTONIC, how long after the start the first
 * byte arrived, when a marker string first appeared and when the command
 * exited.  It is the stopwatch of `make bench`; it judges nothing itself.
 *
 * It is a host program (built with CC_FOR_BUILD), not part of Toro.
 *
 *   bench-timer [-t SECONDS] [-m MARKER] [-k STOP]... [-o FILE] -- COMMAND [ARG...]
 *
 * Prints one line on its own standard output:
 *
 *   first_ns marker_ns exit_ns status bytes
 *
 * Times are nanoseconds from just before fork(); -1 when the event did not
 * happen.  marker_ns is the arrival time of the chunk holding the marker's
 * first byte (without -m it equals first_ns).  status is the command's exit
 * status, 128+N if killed by signal N, 124 after the -t timeout, or 126
 * when the output showed a STOP string (-k, up to 8 of them: a panic
 * message, say); in the last two cases the command's process group is
 * killed at once.  Only the first MiB of output is searched.  The
 * command's output goes to
 * FILE (-o), or is discarded.  bench-timer itself exits 0 unless it could
 * not run the command at all.  Stopped by SIGINT, SIGTERM or SIGHUP, it
 * kills the command's process group first; if it dies any other way, the
 * kernel kills the command (PR_SET_PDEATHSIG): no QEMU outlives it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEEP (1 << 20)	/* output kept for the marker search */

struct chunk {
	size_t end;		/* offset just past the chunk */
	int64_t ns;		/* arrival time */
};

static struct timespec t0;

static int64_t
since_start(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - t0.tv_sec) * 1000000000 + (t.tv_nsec - t0.tv_nsec);
}

/* The first occurrence of s in buf[0..len) that ends past offset old
 * (bytes before old were searched already). */
static char *
find_new(char *buf, size_t old, size_t len, const char *s)
{
	size_t n = strlen(s);
	size_t from = old >= n ? old - n + 1 : 0;

	return memmem(buf + from, len - from, s, n);
}

static void
on_alarm(int sig)
{
	(void)sig;	/* only interrupts waitpid() */
}

static volatile pid_t child;

/* SIGINT, SIGTERM, SIGHUP: stop the command, then die of the signal. */
static void
on_stop(int sig)
{
	if (child > 0) {
		kill(-child, SIGKILL);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-timer [-t SECONDS] [-m MARKER] [-k STOP]... [-o FILE] -- COMMAND [ARG...]\n");
	exit(2);
}

/* The arrival time of the byte at offset off. */
static int64_t
chunk_time(const struct chunk *c, size_t n, size_t off)
{
	for (size_t i = 0; i < n; i++)
		if (off < c[i].end)
			return c[i].ns;
	return -1;
}

int
main(int argc, char **argv)
{
	double timeout = 30;
	const char *marker = NULL, *outpath = NULL, *stop[8];
	int opt, nstop = 0;

	while ((opt = getopt(argc, argv, "+t:m:k:o:")) != -1) {
		switch (opt) {
		case 't': timeout = atof(optarg); break;
		case 'm': marker = optarg; break;
		case 'k':
			if (nstop == 8 || !*optarg)
				usage();
			stop[nstop++] = optarg;
			break;
		case 'o': outpath = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || timeout <= 0)
		usage();

	int out = -1;
	if (outpath && (out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		perror(outpath);
		return 2;
	}
	int p[2];
	if (pipe(p) < 0) {
		perror("pipe");
		return 2;
	}

	char *keep = malloc(MAX_KEEP);
	size_t nchunks = 0, capchunks = 1024;
	struct chunk *chunks = malloc(capchunks * sizeof(*chunks));
	if (!keep || !chunks) {
		perror("malloc");
		return 2;
	}

	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	struct sigaction sa_stop = { .sa_handler = on_stop };
	sigfillset(&sa_stop.sa_mask);
	sigaction(SIGINT, &sa_stop, NULL);
	sigaction(SIGTERM, &sa_stop, NULL);
	sigaction(SIGHUP, &sa_stop, NULL);
	pid_t parent = getpid();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		setpgid(0, 0);	/* so a timeout can kill everything it started */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);	/* bench-timer is gone already */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[optind], argv + optind);
		perror(argv[optind]);
		_exit(127);
	}
	setpgid(pid, pid);
	child = pid;
	close(p[1]);

	int64_t limit = (int64_t)(timeout * 1e9);
	int64_t first = -1, mark = -1, exited = -1;
	size_t total = 0, kept = 0;
	int status = -1, timed_out = 0, stopped = 0;
	char buf[65536];

	for (;;) {
		int64_t left = limit - since_start();
		if (left <= 0) {
			timed_out = !stopped;
			break;
		}
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int r = poll(&pf, 1, (int)(left / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;	/* re-checks the time limit */
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* EOF: the command closed its output (exited) */
		int64_t now = since_start();
		if (first < 0)
			first = now;
		if (out >= 0 && write(out, buf, (size_t)n) != n) {
			perror("write");
			out = -1;
		}
		total += (size_t)n;
		if (((!marker || mark >= 0) && !nstop) || kept == MAX_KEEP)
			continue;
		size_t old = kept;
		size_t take = (size_t)n < MAX_KEEP - kept ? (size_t)n : MAX_KEEP - kept;
		memcpy(keep + kept, buf, take);
		kept += take;
		if (nchunks == capchunks) {
			capchunks *= 2;
			chunks = realloc(chunks, capchunks * sizeof(*chunks));
			if (!chunks) {
				perror("realloc");
				return 2;
			}
		}
		chunks[nchunks++] = (struct chunk){ kept, now };
		if (marker && mark < 0) {
			char *at = find_new(keep, old, kept, marker);
			if (at)
				mark = chunk_time(chunks, nchunks, (size_t)(at - keep));
		}
		for (int i = 0; i < nstop && !stopped; i++)
			if (find_new(keep, old, kept, stop[i])) {
				stopped = 1;
				limit = now + 200000000 < limit ? now + 200000000 : limit;
			}
	}

	/* Reap the command, still bounded by the time limit: SIGALRM
	 * interrupts the blocking waitpid(). */
	while (!timed_out && !stopped) {
		int64_t left = limit - since_start();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct itimerval it = { .it_value = { left / 1000000000, left % 1000000000 / 1000 + 1 } };
		setitimer(ITIMER_REAL, &it, NULL);
		int ws;
		pid_t w = waitpid(pid, &ws, 0);
		int64_t now = since_start();
		setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
		if (w == pid) {
			exited = now;
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			break;
		}
		if (w < 0 && errno != EINTR) {
			perror("waitpid");
			return 2;
		}
	}
	if (timed_out || stopped) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		status = stopped ? 126 : 124;
		exited = -1;
	}
	if (!marker)
		mark = first;
	printf("%lld %lld %lld %d %zu\n", (long long)first, (long long)mark,
	       (long long)exited, status, total);
	return 0;
}
