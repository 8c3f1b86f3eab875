/*
 * TAP output for the guest test programs: ok() prints one "ok N - ..." or
 * "not ok N - ..." line, tap_end() the plan, and returns the program's
 * exit status (0 only if every check passed).  The .test scripts turn
 * each line into a result of their own (tests/lib.sh's guest_tap).
 */
#ifndef TORO_TESTS_GUEST_TAP_H
#define TORO_TESTS_GUEST_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static int tap_tests, tap_failures;

static void ok(int pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
ok(int pass, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", pass ? "ok" : "not ok", ++tap_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	tap_failures += !pass;
}

/* A call that must fail with errno e. */
#define FAILS(call, e) \
	do { \
		errno = 0; \
		long r_ = (long)(call); \
		int e_ = errno; \
		ok(r_ == -1 && e_ == (e), "%s fails with %s (got %ld, errno %d)", \
		   #call, #e, r_, e_); \
	} while (0)

static int
tap_end(void)
{
	printf("1..%d\n", tap_tests);
	return tap_failures ? 1 : 0;
}

#endif
