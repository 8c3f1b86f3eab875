/*
 * TAP output for the guest test programs: ok() prints one "ok N - ..." or
 * "not ok N - ..." line, tap_end() the plan, and returns the program's
 * exit status (0 only if every check passed).  The .test scripts turn
 * each line into a result of their own (tests/lib.sh's guest_tap).
 */
#ifndef TORO_TESTS_GUEST_TAP_H
#define TORO_TESTS_GUEST_TAP_H

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

static int
tap_end(void)
{
	printf("1..%d\n", tap_tests);
	return tap_failures ? 1 : 0;
}

#endif
