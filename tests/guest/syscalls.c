/*
 * System calls as an application sees them through musl.  Prints one
 * "name: facts" line per check; syscalls.test decides what is right (and
 * the kernel's own "toro: ..." lines land in between, in order, because
 * stdout is a terminal and so line buffered).  argv[1] is the host's time
 * (date +%s).  Exits with status 42 once every check has run.
 *
 * Build: syscalls.test uses tests/guest/syscalls.elf when the build tree
 * has it, and otherwise compiles this file with x86_64-toro-gcc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int64_t
ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		return -1;
	return ns_of(&ts);
}

static const char *
err_name(int e)
{
	switch (e) {
	case 0: return "0";
	case ENOSYS: return "ENOSYS";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	}
	return "other";
}

static void
check_uname(void)
{
	struct utsname u;
	int r = uname(&u);

	printf("uname: %d sysname=%s machine=%s\n", r, u.sysname, u.machine);
}

static void
check_clocks(void)
{
	/* MONOTONIC moves forward within a bounded busy loop. */
	int64_t t0 = now_ns(CLOCK_MONOTONIC), t1 = t0;
	for (long i = 0; i < 100000000 && t1 == t0; i++)
		t1 = now_ns(CLOCK_MONOTONIC);
	printf("monotonic: start=%lld advanced=%s\n", (long long)t0,
	       t1 > t0 ? "yes" : "no");

	int64_t before = now_ns(CLOCK_MONOTONIC);
	struct timespec req = { 0, 50 * 1000000L };
	errno = 0;
	int r = nanosleep(&req, NULL);
	int e = errno;
	int64_t after = now_ns(CLOCK_MONOTONIC);
	printf("nanosleep: %d %s slept_ns=%lld\n", r, err_name(r ? e : 0),
	       (long long)(after - before));

	struct timespec rt;
	r = clock_gettime(CLOCK_REALTIME, &rt);
	printf("realtime: %d sec=%lld\n", r, (long long)rt.tv_sec);
}

static void
check_getrandom(void)
{
	unsigned char a[64], b[64], zero[64] = { 0 };
	ssize_t na = getrandom(a, sizeof(a), 0);
	ssize_t nb = getrandom(b, sizeof(b), 0);

	printf("getrandom: %zd %zd differ=%s nonzero=%s\n", na, nb,
	       memcmp(a, b, sizeof(a)) ? "yes" : "no",
	       memcmp(a, zero, sizeof(a)) && memcmp(b, zero, sizeof(b)) ? "yes" : "no");
}

/* An unimplemented call, twice: -1/ENOSYS both times. */
static void
check_unknown(const char *label, long nr)
{
	for (int i = 1; i <= 2; i++) {
		errno = 0;
		long r = syscall(nr, 0L, 0L, 0L);
		int e = errno;
		printf("%s call %d: %ld %s\n", label, i, r, err_name(e));
	}
}

/* 1 MiB of anonymous memory: zeroed, writable, and zeroed again when the
 * pages come back from munmap() through a second mmap(). */
static void
check_mmap(void)
{
	const size_t len = 1 << 20;

	for (int round = 1; round <= 2; round++) {
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			printf("mmap %d: failed %s\n", round, err_name(errno));
			continue;
		}
		size_t nonzero = 0, wrong = 0;
		for (size_t i = 0; i < len; i++)
			nonzero += p[i] != 0;
		for (size_t i = 0; i < len; i++)
			p[i] = (unsigned char)(i * 7 + 1);
		for (size_t i = 0; i < len; i++)
			wrong += p[i] != (unsigned char)(i * 7 + 1);
		int r = munmap(p, len);
		printf("mmap %d: nonzero=%zu wrong=%zu munmap=%d\n", round,
		       nonzero, wrong, r);
	}
}

static void
check_fds(void)
{
	errno = 0;
	ssize_t r = write(5, "x", 1);
	printf("write fd 5: %zd %s\n", r, err_name(errno));
	printf("isatty 1: %d\n", isatty(1));
}

int
main(int argc, char **argv)
{
	printf("syscalls: host time %s\n", argc > 1 ? argv[1] : "(none)");
	check_uname();
	check_clocks();
	check_getrandom();
	check_unknown("acct", SYS_acct);
	check_unknown("nr 400", 400);
	check_unknown("nr 1000", 1000);
	check_mmap();
	check_fds();
	/* Time since kernel entry: the host checks it is no more than the
	 * wall-clock time the whole virtual machine ran. */
	printf("monotonic end: ns=%lld\n", (long long)now_ns(CLOCK_MONOTONIC));
	printf("syscalls: done\n");
	return 42;
}
