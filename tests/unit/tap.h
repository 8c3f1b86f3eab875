/*
 * A tiny TAP producer for the host unit tests: plan(), ok(), is_int(),
 * is_str(), diag(), todo_start()/todo_end() and done_testing(), whose
 * return value is the test program's exit status.  Header-only: every test
 * is one translation unit plus the kernel sources it exercises.
 */
#ifndef TORO_TESTS_TAP_H
#define TORO_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed, tap_planned = -1;
static const char *tap_todo;	/* reason, while inside todo_start/todo_end */

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void
diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Expected failures: results between these two are reported as TODO. */
static inline void
todo_start(const char *reason)
{
	tap_todo = reason;
}

static inline void
todo_end(void)
{
	tap_todo = NULL;
}

static inline int
tap_vok(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_run++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_run);
	vprintf(fmt, ap);
	if (tap_todo)
		printf(" # TODO %s", tap_todo);
	putchar('\n');
	if (!pass) {
		printf("#   Failed %stest at %s line %d.\n", tap_todo ? "(TODO) " : "",
		       file, line);
		if (!tap_todo)
			tap_failed++;
	}
	fflush(stdout);
	return pass;
}

static inline int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

static inline int
tap_is_int(long long got, long long want, const char *file, int line,
	   const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline int
tap_is_int(long long got, long long want, const char *file, int line,
	   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = tap_vok(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %lld (0x%llx)\n#     expected: %lld (0x%llx)\n",
		       got, (unsigned long long)got, want, (unsigned long long)want);
	return r;
}

static inline int
tap_is_str(const char *got, const char *want, const char *file, int line,
	   const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline int
tap_is_str(const char *got, const char *want, const char *file, int line,
	   const char *fmt, ...)
{
	va_list ap;
	int pass = got && want ? !strcmp(got, want) : got == want;

	va_start(ap, fmt);
	int r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %s%s%s\n#     expected: %s%s%s\n",
		       got ? "'" : "", got ? got : "NULL", got ? "'" : "",
		       want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	return r;
}

#define ok(cond, ...)		tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)	\
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...)	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* Prints the plan if none was given; returns the exit status. */
static inline int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run) {
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
		return 1;
	}
	if (tap_failed)
		printf("# failed %d of %d tests\n", tap_failed, tap_run);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
