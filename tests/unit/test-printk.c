/*
 * The kernel's printf (kvsnprintf/ksnprintf from lib/kernel/printk.c),
 * compared with the host's snprintf for every conversion it supports
 * (%d %i %u %x %X %p %s %c %%), widths, the '-' and '0' flags, '*',
 * precision for %s, the l/ll/z modifiers, INT_MIN/LLONG_MIN, truncation to
 * the buffer size with the untruncated length returned, and size 0; plus
 * its documented divergences (NULL %p, unknown conversions), the console
 * sink and log levels.  Also lib/kernel/kstring.c: kstrlcpy, kparse_size
 * (K/M/G suffixes, overflow and junk give -EINVAL) and the small helpers.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "tap.h"

/*
 * Formats with both printfs into large buffers and compares the text and
 * the return value.  A macro, so the compiler checks the format against
 * the arguments for both calls.
 */
#define SAME(fmt, ...)							\
	do {								\
		char k_[256], h_[256];					\
		memset(k_, 'K', sizeof(k_));				\
		int kn_ = ksnprintf(k_, sizeof(k_), fmt, __VA_ARGS__);	\
		int hn_ = snprintf(h_, sizeof(h_), fmt, __VA_ARGS__);	\
		if (is_str(k_, h_, "ksnprintf(\"%s\", %s)", fmt, #__VA_ARGS__)) \
			is_int(kn_, hn_, "  returns %d", hn_);		\
		else							\
			is_int(kn_, hn_, "  returns the same length");	\
	} while (0)

static void
conversions(void)
{
	SAME("%d", 0);
	SAME("%d", 42);
	SAME("%d", -42);
	SAME("%d", INT_MAX);
	SAME("%d", INT_MIN);
	SAME("%i", -7);
	SAME("%i", INT_MIN);
	SAME("%u", 0u);
	SAME("%u", UINT_MAX);
	SAME("%x", 0u);
	SAME("%x", 0xdeadbeefu);
	SAME("%X", 0xdeadbeefu);
	SAME("%x", UINT_MAX);
	SAME("%p", (void *)0x1234);
	SAME("%p", (void *)UINTPTR_MAX);
	SAME("%s", "hello");
	SAME("%s", "");
	SAME("%c", 'x');
	SAME("%c%c%c", 'a', 'b', 'c');
	SAME("100%% sure%s", "");
	SAME("a=%d b=%s c=%x d=%c", -1, "two", 0x3u, '4');
	SAME("%s", "no conversions at the end");
}

static void
flags_and_widths(void)
{
	SAME("[%5d]", 42);
	SAME("[%5d]", -42);
	SAME("[%-5d]", 42);
	SAME("[%-5d]", -42);
	SAME("[%05d]", 42);
	SAME("[%05d]", -42);
	SAME("[%05d]", INT_MIN);
	SAME("[%2d]", 12345);
	SAME("[%1d]", -5);
	SAME("[%8x]", 0xbeefu);
	SAME("[%08x]", 0xbeefu);
	SAME("[%08X]", 0xbeefu);
	SAME("[%-8x]", 0xbeefu);
	SAME("[%016llx]", 0x1234ULL);
	SAME("[%10u]", 7u);
	SAME("[%010u]", 7u);
	SAME("[%20p]", (void *)0xabc);
	SAME("[%-20p]", (void *)0xabc);
	SAME("[%10s]", "right");
	SAME("[%-10s]", "left");
	SAME("[%3s]", "longer");
	SAME("[%.3s]", "abcdef");
	SAME("[%.0s]", "abcdef");
	SAME("[%.10s]", "abc");
	SAME("[%10.3s]", "abcdef");
	SAME("[%-10.3s]", "abcdef");
	SAME("[%3c]", 'z');
	SAME("[%-3c]", 'z');
	SAME("[%*d]", 6, 42);
	SAME("[%-*d]", 6, 42);
	SAME("[%.*s]", 2, "abc");
	SAME("[%.*s]", -1, "abc");	/* negative precision: none */
	SAME("[%*.*s]", 5, 1, "xyz");
}

static void
length_modifiers(void)
{
	SAME("%ld", 0L);
	SAME("%ld", LONG_MAX);
	SAME("%ld", LONG_MIN);
	SAME("%li", -123456789012L);
	SAME("%lu", ULONG_MAX);
	SAME("%lx", 0xfedcba9876543210UL);
	SAME("%lX", 0xfedcba9876543210UL);
	SAME("%lld", LLONG_MAX);
	SAME("%lld", LLONG_MIN);
	SAME("%lli", LLONG_MIN);
	SAME("%llu", ULLONG_MAX);
	SAME("%llx", ULLONG_MAX);
	SAME("%zu", (size_t)SIZE_MAX);
	SAME("%zx", (size_t)0x123456789aULL);
	SAME("%zd", (ssize_t)-5);
	SAME("[%-22lld]", LLONG_MIN);
	SAME("[%022lld]", LLONG_MIN);
	/* An int argument after a long long one: va_arg kept in step. */
	SAME("%lld %d %llu %u", -1LL, -2, 3ULL, 4u);
}

/* Every buffer size from 0 to beyond the text: same bytes, same return. */
static void
truncation(void)
{
	static const char *const fmt = "%s=%d [%-6x] %c%%";
	int bad = 0, checked = 0;

	for (size_t size = 0; size < 32; size++) {
		char k[40], h[40];
		memset(k, '#', sizeof(k));
		memset(h, '#', sizeof(h));
		int kn = ksnprintf(k, size, fmt, "key", -17, 0xabu, 'q');
		int hn = snprintf(h, size, fmt, "key", -17, 0xabu, 'q');
		checked++;
		if (kn != hn || memcmp(k, h, sizeof(k))) {
			bad++;
			diag("size %zu: kernel %d '%.*s', host %d '%.*s'", size, kn,
			     (int)sizeof(k), k, hn, (int)sizeof(h), h);
		}
	}
	is_int(bad, 0, "truncation at %d sizes: same bytes (nothing past size) and return", checked);

	char b[8];
	memset(b, '#', sizeof(b));
	is_int(ksnprintf(b, 4, "%d", 123456), 6, "return value is the untruncated length");
	is_str(b, "123", "truncated to size - 1 and terminated");
	is_int(b[4], '#', "nothing written past size");

	memset(b, '#', sizeof(b));
	is_int(ksnprintf(b, 0, "%s", "abc"), 3, "size 0 returns the length");
	is_int(b[0], '#', "size 0 writes nothing");
	is_int(ksnprintf(NULL, 0, "%d-%s", -1, "xy"), 5, "size 0 with a NULL buffer");

	memset(b, '#', sizeof(b));
	is_int(ksnprintf(b, 1, "%s", "abc"), 3, "size 1 returns the length");
	is_int(b[0], '\0', "size 1 stores only the terminator");
	is_int(b[1], '#', "size 1 writes one byte");

	memset(b, '#', sizeof(b));
	is_int(ksnprintf(b, sizeof(b), "%s", ""), 0, "empty result");
	is_int(b[0], '\0', "empty result terminated");
}

/* Without the format attribute, to reach what the kernel does on bad input. */
static int
kfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void
kernel_specific(void)
{
	char b[64];

	kfmt(b, sizeof(b), "%p", (void *)0);
	is_str(b, "0x0", "NULL %%p prints 0x0 (glibc prints (nil))");
	kfmt(b, sizeof(b), "[%s]", (char *)NULL);
	is_str(b, "[(null)]", "NULL %%s prints (null)");
	is_int(kfmt(b, sizeof(b), "a%qb"), 4, "unknown conversion: length");
	is_str(b, "a%qb", "unknown conversion is printed as is");
	is_int(kfmt(b, sizeof(b), "abc%"), 4, "'%%' at the end of the format: length");
	is_str(b, "abc%", "'%%' at the end of the format is printed");
	kfmt(b, sizeof(b), "abc%-");
	is_str(b, "abc%", "format ending inside a conversion stops there");
	kfmt(b, sizeof(b), "%hd|%d", 5);
	is_str(b, "%hd|5", "no 'h' modifier: printed, argument not consumed");
	kfmt(b, sizeof(b), "%.2d", 5);
	is_str(b, "5", "precision is ignored for numbers");
	kfmt(b, sizeof(b), "[%05s|%03c]", "ab", 'c');
	is_str(b, "[   ab|  c]", "'0' pads %%s and %%c with spaces");
	kfmt(b, sizeof(b), "[%-05d]", -3);
	is_str(b, "[-3   ]", "'-' overrides '0'");
}

static char sink_buf[1024];
static size_t sink_len;
static int sink_calls;

static void
sink(const char *buf, size_t len)
{
	sink_calls++;
	if (sink_len + len <= sizeof(sink_buf)) {
		memcpy(sink_buf + sink_len, buf, len);
		sink_len += len;
	}
}

static void
console(void)
{
	console_write("lost", 4);	/* no sink yet: dropped, no crash */
	console_set_sink(sink);
	kprintf("x=%d\n", 5);
	is_int(sink_len, 4, "kprintf writes its text");
	ok(!memcmp(sink_buf, "x=5\n", 4), "kprintf text without prefix");

	sink_len = 0;
	log_level = LOG_WARN;
	klog(LOG_INFO, "info %d\n", 1);
	is_int(sink_len, 0, "messages above log_level are dropped");
	pr_warn("careful\n");
	is_int(sink_len, 14, "pr_warn at LOG_WARN is written");
	ok(!memcmp(sink_buf, "toro: careful\n", 14), "klog prefixes 'toro: '");

	sink_len = 0;
	sink_calls = 0;
	char big[700];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pr_err("%s", big);
	is_int(sink_calls, 1, "one console write per message");
	is_int(sink_len, 511, "long message cut to the 511-byte line");
	ok(!memcmp(sink_buf, "toro: yyy", 9) && sink_buf[510] == 'y',
	   "cut line keeps the prefix and the start of the text");
	console_set_sink(NULL);
}

static void
kstrings(void)
{
	char b[8];

	memset(b, '#', sizeof(b));
	is_int(kstrlcpy(b, "abc", sizeof(b)), 3, "kstrlcpy returns strlen(src)");
	is_str(b, "abc", "kstrlcpy copies a short string");
	memset(b, '#', sizeof(b));
	is_int(kstrlcpy(b, "abcdefghij", 5), 10, "kstrlcpy truncating returns strlen(src)");
	is_str(b, "abcd", "kstrlcpy truncates to size - 1");
	is_int(b[5], '#', "kstrlcpy writes nothing past size");
	memset(b, '#', sizeof(b));
	is_int(kstrlcpy(b, "abcdefg", 8), 7, "exact fit");
	is_str(b, "abcdefg", "exact fit copied whole");
	memset(b, '#', sizeof(b));
	is_int(kstrlcpy(b, "abc", 1), 3, "size 1");
	is_int(b[0], '\0', "size 1 stores only the terminator");
	memset(b, '#', sizeof(b));
	is_int(kstrlcpy(b, "abc", 0), 3, "size 0 returns strlen(src)");
	is_int(b[0], '#', "size 0 writes nothing");

	is_int(kstrlen(""), 0, "kstrlen empty");
	is_int(kstrlen("four"), 4, "kstrlen");
	is_int(kstrnlen("four", 2), 2, "kstrnlen stops at max");
	is_int(kstrnlen("four", 9), 4, "kstrnlen stops at NUL");
	ok(kstrcmp("abc", "abc") == 0, "kstrcmp equal");
	ok(kstrcmp("abc", "abd") < 0 && kstrcmp("abd", "abc") > 0, "kstrcmp order");
	ok(kstrcmp("ab", "abc") < 0 && kstrcmp("abc", "ab") > 0, "kstrcmp prefix");
	ok(kstrcmp("\xff", "a") > 0, "kstrcmp compares unsigned chars");
	ok(kstrncmp("abcX", "abcY", 3) == 0, "kstrncmp stops at n");
	ok(kstrncmp("abcX", "abcY", 4) < 0, "kstrncmp differs at n");
	ok(kstrncmp("ab", "ab", 10) == 0, "kstrncmp stops at NUL");
	ok(kstrncmp("x", "y", 0) == 0, "kstrncmp n = 0");
	const char *s = "a=b=c";
	ok(kstrchr(s, '=') == s + 1, "kstrchr finds the first");
	ok(kstrchr(s, 'z') == NULL, "kstrchr missing");
	ok(kstrchr(s, '\0') == s + 5, "kstrchr finds the terminator");
}

static void
parse_ok(const char *s, unsigned long long want)
{
	unsigned long long v = 12345;
	int r = kparse_size(s, &v);

	if (is_int(r, 0, "kparse_size(\"%s\") succeeds", s))
		is_int(v, want, "  = %llu", want);
	else
		is_int(v, want, "  value");
}

static void
parse_bad(const char *s)
{
	unsigned long long v = 12345;

	is_int(kparse_size(s, &v), -EINVAL, "kparse_size(\"%s\") is -EINVAL", s);
	is_int(v, 12345, "  result untouched");
}

static void
uints(void)
{
	unsigned v = 99;

	is_int(kparse_uint("0", 10, &v), 0, "kparse_uint(\"0\") succeeds");
	is_int(v, 0, "  = 0");
	is_int(kparse_uint("100000", 100000, &v), 0, "kparse_uint at its maximum succeeds");
	is_int(v, 100000, "  = 100000");
	v = 99;
	is_int(kparse_uint("100001", 100000, &v), -EINVAL, "kparse_uint above its maximum is -EINVAL");
	is_int(kparse_uint("4K", 100000, &v), -EINVAL, "kparse_uint refuses a size suffix");
	is_int(kparse_uint("", 10, &v), -EINVAL, "kparse_uint(\"\") is -EINVAL");
	is_int(kparse_uint(NULL, 10, &v), -EINVAL, "kparse_uint(NULL) is -EINVAL");
	is_int(kparse_uint("-1", 10, &v), -EINVAL, "kparse_uint(\"-1\") is -EINVAL");
	is_int(kparse_uint("99999999999999999999", ~0U, &v), -EINVAL, "kparse_uint overflow is -EINVAL");
	is_int(v, 99, "  result untouched on errors");
}

static void
sizes(void)
{
	parse_ok("0", 0);
	parse_ok("7", 7);
	parse_ok("00012", 12);
	parse_ok("4096", 4096);
	parse_ok("4K", 4096);
	parse_ok("4k", 4096);
	parse_ok("256K", 256 * 1024);
	parse_ok("2M", 2ULL << 20);
	parse_ok("3m", 3ULL << 20);
	parse_ok("1G", 1ULL << 30);
	parse_ok("5g", 5ULL << 30);
	parse_ok("0G", 0);
	parse_ok("18446744073709551615", ULLONG_MAX);
	parse_ok("17179869183G", 17179869183ULL << 30);
	parse_ok("17592186044415M", 17592186044415ULL << 20);
	parse_ok("18014398509481983K", 18014398509481983ULL << 10);

	parse_bad("");
	parse_bad("K");
	parse_bad("-1");
	parse_bad("+1");
	parse_bad(" 1");
	parse_bad("1 ");
	parse_bad("1KB");
	parse_bad("1T");
	parse_bad("0x10");
	parse_bad("12a");
	parse_bad("18446744073709551616");	/* 2^64 */
	parse_bad("99999999999999999999");
	parse_bad("17179869184G");		/* 2^64 */
	parse_bad("17592186044416M");
	parse_bad("18014398509481984K");
}

int
main(void)
{
	conversions();
	flags_and_widths();
	length_modifiers();
	truncation();
	kernel_specific();
	console();
	kstrings();
	sizes();
	uints();
	return done_testing();
}
