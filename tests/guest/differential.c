/*
 * Differential test program: built once for Linux (musl, static) and once
 * as a Toro image, run with the same arguments and environment, and the two
 * outputs must be byte-identical (differential.test).  Everything printed is
 * deterministic: no addresses, times, process ids or terminal properties.
 *
 * It exercises printf formatting (integers of every width, floating point
 * in every conversion with special values, flags, widths, precisions),
 * snprintf truncation, sscanf, string functions, stdlib conversions,
 * qsort/bsearch, a malloc/realloc/free churn with content checks (small
 * blocks and blocks well above musl's mmap threshold), long double (x87
 * precision), argv[1..] and the environment, and POSIX threads: a mutex,
 * a condition-variable pipeline, barrier phases, thread-local storage and
 * join values, whose printed results do not depend on scheduling.  The last line is a checksum
 * of everything printed before it; the exit status is 7.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

extern char **environ;

/* ------------------------------------------------------------ output */

static uint64_t checksum = 0xcbf29ce484222325ULL;	/* FNV-1a */
static unsigned long selfcheck_failures;

static void
hash_bytes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		checksum ^= (unsigned char)s[i];
		checksum *= 0x100000001b3ULL;
	}
}

/* printf through stdio, and the same text through vsnprintf for the
 * checksum; the two must agree on the length. */
__attribute__((format(printf, 1, 2))) static void
out(const char *fmt, ...)
{
	char small[512], *buf = small;
	va_list ap, ap2;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(small)) {
		buf = malloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(buf, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	int m = vprintf(fmt, ap2);
	va_end(ap2);
	if (n >= 0)
		hash_bytes(buf, (size_t)n);
	if (m != n)
		selfcheck_failures++;
	if (buf != small)
		free(buf);
}

static void
fail(const char *what)
{
	selfcheck_failures++;
	out("SELFCHECK FAILED: %s\n", what);
}

static void
section(const char *name)
{
	out("== %s\n", name);
}

static const char *
errno_name(int e)
{
	switch (e) {
	case 0: return "0";
	case ERANGE: return "ERANGE";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	}
	return "other";
}

/* ------------------------------------------------------------ LCG */

static uint64_t lcg_state;

static void
lcg_seed(uint64_t s)
{
	lcg_state = s;
}

static uint32_t
lcg(void)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(lcg_state >> 33);
}

/* ------------------------------------------------------------ integers */

static void
test_integers(void)
{
	section("integers");

	static const signed char sc[] = { 0, 1, -1, 42, -42, SCHAR_MAX, SCHAR_MIN };
	for (size_t i = 0; i < sizeof(sc); i++)
		out("hh: [%hhd] [%hhu] [%hhx] [%hho] [%4hhd] [%-4hhd] [%+hhd]\n",
		    sc[i], (unsigned char)sc[i], (unsigned char)sc[i],
		    (unsigned char)sc[i], sc[i], sc[i], sc[i]);

	static const short ss[] = { 0, 1, -1, 1234, -1234, SHRT_MAX, SHRT_MIN };
	for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++)
		out("h: [%hd] [%hu] [%hx] [%#hX] [%ho] [%07hd] [% hd]\n", ss[i],
		    (unsigned short)ss[i], (unsigned short)ss[i],
		    (unsigned short)ss[i], (unsigned short)ss[i], ss[i], ss[i]);

	static const int is[] = { 0, 1, -1, 7, -7, 100000, -100000, INT_MAX, INT_MIN };
	for (size_t i = 0; i < sizeof(is) / sizeof(is[0]); i++) {
		int v = is[i];
		out("d: [%d] [%i] [%u] [%x] [%X] [%o] [%#x] [%#o]\n", v, v,
		    (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v,
		    (unsigned)v, (unsigned)v);
		out("d flags: [%12d] [%-12d] [%012d] [%+d] [% d] [%.5d] [%12.5d] [%-+12.5d] [%+012d]\n",
		    v, v, v, v, v, v, v, v, v);
	}
	out("zero precision: [%.0d] [%.0x] [%#.0o] [%#.0x] [%5.0d] [%#x] [%#o]\n",
	    0, 0u, 0u, 0u, 0, 0u, 0u);

	static const long ls[] = { 0L, -1L, LONG_MAX, LONG_MIN, 1234567890123L };
	for (size_t i = 0; i < sizeof(ls) / sizeof(ls[0]); i++)
		out("l: [%ld] [%lu] [%lx] [%lo] [%25ld] [%-25ld]\n", ls[i],
		    (unsigned long)ls[i], (unsigned long)ls[i],
		    (unsigned long)ls[i], ls[i], ls[i]);

	static const long long lls[] = { 0LL, -1LL, LLONG_MAX, LLONG_MIN, -98765432109876LL };
	for (size_t i = 0; i < sizeof(lls) / sizeof(lls[0]); i++)
		out("ll: [%lld] [%llu] [%llx] [%llX] [%llo] [%+.20lld]\n", lls[i],
		    (unsigned long long)lls[i], (unsigned long long)lls[i],
		    (unsigned long long)lls[i], (unsigned long long)lls[i], lls[i]);

	out("ull max: [%llu] [%#llx] [%#llo]\n", ULLONG_MAX, ULLONG_MAX, ULLONG_MAX);
	out("j: [%jd] [%ju] [%jx]\n", INTMAX_MIN, UINTMAX_MAX, (uintmax_t)INTMAX_MAX);
	out("z: [%zd] [%zu] [%zx] [%zd]\n", (ssize_t)-5, SIZE_MAX, (size_t)4096, (ssize_t)SSIZE_MAX);
	out("t: [%td] [%td]\n", (ptrdiff_t)-123456, PTRDIFF_MAX);
	out("fixed: [%" PRId8 "] [%" PRIu16 "] [%" PRIx32 "] [%" PRId64 "] [%" PRIu64 "]\n",
	    (int8_t)-8, (uint16_t)65535, (uint32_t)0xdeadbeef, INT64_MIN, UINT64_MAX);
	out("star: [%*d] [%-*d] [%*d] [%.*d] [%*.*d]\n", 8, 42, 8, 42, -8, 42, 6, 42, 10, 4, -42);
	out("positional: [%2$s %1$s] [%4$*3$d]\n", "world", "hello", 7, 42);
	out("char: [%c] [%5c] [%-5c] [%c]\n", 'A', 'b', 'c', '\t');
	out("string: [%s] [%10s] [%-10s] [%.3s] [%10.3s] [%-10.3s] [%.0s] [%s]\n",
	    "hello", "hello", "hello", "hello", "hello", "hello", "hello", "");
	const char *volatile null_string = NULL;
	out("null string: [%s] [%.3s]\n", null_string, null_string);
	out("null pointer: [%p]\n", (void *)NULL);
	out("percent: [%%] [%d%%]\n", 50);

	int n1 = 0, n2 = 0;
	out("count: abc%n defgh%n|\n", &n1, &n2);
	out("counted: %d %d\n", n1, n2);
}

/* ------------------------------------------------------------ floating point */

static void
test_floats(void)
{
	section("floating point");

	volatile double zero = 0.0;
	const double values[] = {
		0.0, -0.0, 1.0, -1.0, 0.1, -0.1, 1.0 / 3.0, 2.0 / 3.0, 0.5, 1.5,
		2.5, 3.5, -2.5, 0.125, 0.05, 0.15, 0.25, 0.35, 1e-5, 123456.789,
		999.9999, 9.9999999, 99999.5, 1e15, 1e16, 1e17, 9007199254740993.0,
		1e21, 1e22, 1e23, 1e100, 1e300, 1e-100, 1e-300, DBL_MAX, -DBL_MAX,
		DBL_MIN, DBL_MIN / 2, DBL_TRUE_MIN, -DBL_TRUE_MIN, DBL_EPSILON,
		M_PI, -M_E, 6.02214076e23, 1.602176634e-19, 4294967296.0,
		INFINITY, -INFINITY, NAN, -NAN, zero / zero,
	};
	static const char *const formats[] = {
		"%e", "%.0e", "%.3e", "%E", "%#.0e", "%20.8e", "%-+20.8e|",
		"%f", "%.0f", "%.1f", "%.2f", "%.10f", "%#.0f", "%+f", "% f",
		"%015.4f", "%-15.4f|", "%g", "%.0g", "%.1g", "%.6g", "%.17g",
		"%#g", "%#.3g", "%G", "%+g", "%a", "%.0a", "%.3a", "%A", "%+.13a",
		"%#a", "%25a",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		out("value %zu:", i);
		for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
			char buf[512];
			snprintf(buf, sizeof(buf), formats[f], values[i]);
			out(" [%s]", buf);
		}
		out("\n");
	}
	/* %f of the largest finite value: all 309 digits. */
	out("DBL_MAX %%f: %f\n", DBL_MAX);
	out("DBL_TRUE_MIN %%.760f: %.760f\n", DBL_TRUE_MIN);
	out("float args: [%f] [%g] [%a]\n", (double)1.1f, (double)FLT_MAX, (double)FLT_MIN);
	out("star precision: [%.*f] [%.*f] [%*.*e]\n", 3, M_PI, -1, M_PI, 15, 2, M_PI);

	/* Arithmetic whose result depends on the FPU being set up as Linux does. */
	volatile double a = 1.0, b = 3.0;
	out("double ops: %a %a %a %a\n", a / b, sqrt(2.0), fma(a / b, b, -a), b * 1e308);
	out("rounding: %.0f %.0f %.0f %.0f %g %g\n", rint(2.5), rint(3.5),
	    nearbyint(-2.5), floor(-0.5), fmod(10.0, 3.0), ldexp(1.0, -1074));
	int ex;
	double fr = frexp(1234.5, &ex);
	out("frexp: %g %d; modf/trunc: %g %g\n", fr, ex, trunc(-3.7), round(-3.5));
	out("libm: %.17g %.17g %.17g %.17g %.17g\n", exp(1.0), log(10.0), sin(1.0),
	    pow(2.0, 0.5), atan2(1.0, -1.0));

	volatile long double la = 1.0L, lb = 3.0L;
	long double lv[] = { la / lb, LDBL_MAX, LDBL_MIN, -0.0L, 1e4000L, LDBL_EPSILON,
			     sqrtl(2.0L), (long double)INFINITY };
	for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++)
		out("long double %zu: [%Lf] [%.25Le] [%La] [%Lg] [%.21Lg]\n", i,
		    lv[i] > 1e30L ? 0.0L : lv[i], lv[i], lv[i], lv[i], lv[i]);
	out("long double ops: %La %La\n", la / lb * lb, (la + LDBL_EPSILON) - la);
}

/* ------------------------------------------------------------ snprintf, sscanf */

static void
quoted(const char *label, const char *buf, int ret)
{
	out("%s: ret=%d buf=\"%s\"\n", label, ret, buf);
}

static void
test_snprintf(void)
{
	section("snprintf");

	static const size_t sizes[] = { 1, 2, 5, 10, 19, 20, 21, 64 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char buf[64];
		memset(buf, '#', sizeof(buf));
		int r = snprintf(buf, sizes[i], "%s-%05d-%.2f", "truncate", 42, 3.14159);
		char label[32];
		snprintf(label, sizeof(label), "size %zu", sizes[i]);
		quoted(label, buf, r);
		out("  byte after the terminator: %s\n",
		    sizes[i] < sizeof(buf) ? (buf[sizes[i]] == '#' ? "untouched" : "written") : "-");
	}
	out("size 0 with NULL: ret=%d\n", snprintf(NULL, 0, "%d %s %e", 123456, "xyz", 1e100));
	char big[5000];
	int r = snprintf(big, sizeof(big), "%4000d|%s", 1, "end");
	out("wide field: ret=%d len=%zu tail=%s\n", r, strlen(big), big + 3990);

	section("sscanf");
	int i1 = 0, n = 0;
	unsigned x = 0;
	double d = 0;
	char s1[32] = "", s2[32] = "";
	int got = sscanf("  -42 0x1F 2.5e3 word [rest]", "%d %x %lf %31s %n", &i1, &x, &d, s1, &n);
	out("sscanf 1: got=%d %d %u %g %s n=%d\n", got, i1, x, d, s1, n);
	got = sscanf("abc123def", "%[a-z]%d%[^\n]", s1, &i1, s2);
	out("sscanf 2: got=%d %s %d %s\n", got, s1, i1, s2);
	got = sscanf("12:34:56", "%d:%d:%d", &i1, &n, (int *)&x);
	out("sscanf 3: got=%d %d %d %u\n", got, i1, n, x);
	got = sscanf("", "%d", &i1);
	out("sscanf 4: got=%d\n", got);
	got = sscanf("nan inf -0x1p-2", "%lf %lf %lf", &d, &d, &d);
	out("sscanf 5: got=%d last=%a\n", got, d);
}

/* ------------------------------------------------------------ strings */

static void
test_strings(void)
{
	section("strings");

	const char *hay = "the quick brown fox jumps over the lazy dog";
	out("strlen: %zu %zu %zu\n", strlen(hay), strlen(""), strnlen(hay, 10));
	static const char *const cmp[][2] = {
		{ "abc", "abd" }, { "abc", "abc" }, { "abc", "ab" }, { "", "a" },
		{ "\xff", "\x01" }, { "Hello", "hello" },
	};
	for (size_t i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++) {
		int c = strcmp(cmp[i][0], cmp[i][1]), nc = strncmp(cmp[i][0], cmp[i][1], 2);
		int cc = strcasecmp(cmp[i][0], cmp[i][1]);
		out("cmp %zu: %d %d %d\n", i, (c > 0) - (c < 0), (nc > 0) - (nc < 0),
		    (cc > 0) - (cc < 0));
	}
	static const char *const needles[] = { "fox", "the", "dog", "cat", "", "o", "lazy dog!" };
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
		const char *p = strstr(hay, needles[i]);
		out("strstr \"%s\": %td\n", needles[i], p ? p - hay : (ptrdiff_t)-1);
	}
	out("strchr/strrchr: %td %td %td %td\n", strchr(hay, 'o') - hay,
	    strrchr(hay, 'o') - hay, strchr(hay, '\0') - hay, strchr(hay, 'Z') ? 1 : (ptrdiff_t)-1);
	out("strspn/strcspn/strpbrk: %zu %zu %td\n", strspn(hay, "the "), strcspn(hay, "xyz"),
	    strpbrk(hay, "qz") - hay);

	char tok[] = "  alpha,beta;;gamma , delta,,";
	out("strtok:");
	for (char *t = strtok(tok, " ,;"); t; t = strtok(NULL, " ,;"))
		out(" <%s>", t);
	out("\n");
	char tok2[] = "a=1&b=2&&c=3";
	char *save = NULL;
	out("strtok_r:");
	for (char *t = strtok_r(tok2, "&", &save); t; t = strtok_r(NULL, "&", &save))
		out(" <%s>", t);
	out("\n");
	char tok3[] = "x,,y,z";
	char *sp = tok3, *t;
	out("strsep:");
	while ((t = strsep(&sp, ",")))
		out(" <%s>", t);
	out("\n");

	char buf[64];
	strcpy(buf, "0123456789abcdef");
	memmove(buf + 4, buf, 10);
	out("memmove up: %s\n", buf);
	strcpy(buf, "0123456789abcdef");
	memmove(buf, buf + 5, 11);
	out("memmove down: %s\n", buf);
	memset(buf, 'x', 8);
	buf[8] = 0;
	out("memset: %s\n", buf);
	char dst[16];
	memset(dst, '.', sizeof(dst));
	strncpy(dst, "abc", 6);
	out("strncpy pad: %d %d %d %c\n", dst[3], dst[4], dst[5], dst[6]);
	strcpy(buf, "foo");
	strcat(buf, "bar");
	const char *volatile tail = "bazqux";
	strncat(buf, tail, 3);
	out("strcat: %s\n", buf);
	out("memcmp: %d %d\n", memcmp("abc", "abd", 3) < 0, memcmp("abc", "abd", 2) == 0);
	const char *mc = memchr(hay, 'q', strlen(hay));
	out("memchr: %td %d\n", mc - hay, memchr(hay, 'Q', strlen(hay)) == NULL);
	char *dup = strdup(hay), *ndup = strndup(hay, 9);
	out("strdup: %s | %s\n", dup, ndup);
	free(dup);
	free(ndup);
	out("strerror: %s | %s | %s\n", strerror(ENOENT), strerror(ERANGE), strerror(0));

	/* memcpy/memmove over many sizes and alignments, checked byte by byte. */
	unsigned char src[300], dst2[300];
	unsigned long sum = 0;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 13 + 5);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len < 280; len += 7) {
			memset(dst2, 0, sizeof(dst2));
			memcpy(dst2 + off, src + (7 - off), len);
			for (size_t i = 0; i < len; i++)
				if (dst2[off + i] != src[7 - off + i])
					fail("memcpy");
			for (size_t i = 0; i < sizeof(dst2); i++)
				sum = sum * 31 + dst2[i];
		}
	out("memcpy sweep: %lx\n", sum);

	setlocale(LC_CTYPE, "C.UTF-8");
	out("wide: [%ls] [%lc] [%5ls]\n", L"gr\u00fc\u00df \u20ac", (wint_t)L'\u00e9', L"ab");
	wchar_t wbuf[16];
	size_t wn = mbstowcs(wbuf, "\xc3\xa9t\xc3\xa9", 16);
	out("mbstowcs: %zu %lx\n", wn, (unsigned long)wbuf[0]);
}

/* ------------------------------------------------------------ stdlib */

static void
show_strtod(const char *s)
{
	char *end;

	errno = 0;
	double v = strtod(s, &end);
	int e = errno;
	out("strtod \"%s\": %.17g %a end=%td errno=%s\n", s, v, v, end - s, errno_name(e));
}

static void
show_strtol(const char *s, int base)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, base);
	int e = errno;
	out("strtol \"%s\" base %d: %ld end=%td errno=%s\n", s, base, v, end - s, errno_name(e));
}

static void
show_strtoull(const char *s, int base)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	int e = errno;
	out("strtoull \"%s\" base %d: %llu end=%td errno=%s\n", s, base, v, end - s,
	    errno_name(e));
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int
cmp_char(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

struct rec {
	int key;
	int seq;
};

static int
cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void
test_stdlib(void)
{
	section("strtod");
	static const char *const dbl[] = {
		"0", "-0", "1", "  +3.25xyz", ".5", "5.", ".", "e5", "1e", "1e+", "-1.5e-3",
		"0x1.8p1", "0X.8P-2", "0x", "0x1p-1074", "0x1p-1075", "0x1.fffffffffffff8p1023",
		"inf", "-Infinity", "INFINITYx", "nan", "-nan", "nan(123)", "nan(",
		"1e-400", "1e400", "-1e400", "2.2250738585072011e-308",
		"2.2250738585072014e-308", "4.9406564584124654e-324",
		"2.4703282292062327e-324", "2.4703282292062328e-324",
		"1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
		"9007199254740993", "0.1", "123456789012345678901234567890",
		"0.000000000000000000000000000000000000000000001e45",
		"1.00000000000000011102230246251565404236316680908203125",
		"1.00000000000000011102230246251565404236316680908203124",
		"1.00000000000000011102230246251565404236316680908203126",
		"", "   ", "-", "+.e1",
	};
	for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++)
		show_strtod(dbl[i]);
	errno = 0;
	float f = strtof("3.4028236e38", NULL);
	out("strtof overflow: %g errno=%s\n", (double)f, errno_name(errno));
	errno = 0;
	long double ld = strtold("1.18973149535723176502e+4932", NULL);
	out("strtold: %La errno=%s\n", ld, errno_name(errno));

	section("strtol");
	static const struct {
		const char *s;
		int base;
	} li[] = {
		{ "123", 10 }, { "-123", 10 }, { "  +42", 10 }, { "0x1f", 16 }, { "0x1f", 0 },
		{ "1f", 16 }, { "017", 0 }, { "08", 0 }, { "z", 36 }, { "Zz", 36 },
		{ "1010", 2 }, { "12abc", 10 }, { "9223372036854775807", 10 },
		{ "9223372036854775808", 10 }, { "-9223372036854775808", 10 },
		{ "-9223372036854775809", 10 }, { "99999999999999999999999", 0 },
		{ "", 10 }, { "  ", 10 }, { "-", 10 }, { "0x", 16 }, { "0x", 0 },
		{ "0xg", 16 }, { "10", 1 }, { "10", 37 }, { "7fffffff", 16 },
	};
	for (size_t i = 0; i < sizeof(li) / sizeof(li[0]); i++)
		show_strtol(li[i].s, li[i].base);
	static const struct {
		const char *s;
		int base;
	} ull[] = {
		{ "18446744073709551615", 10 }, { "18446744073709551616", 10 },
		{ "-1", 10 }, { "0xFFFFFFFFFFFFFFFF", 0 }, { "  -0x10", 16 },
		{ "0777", 0 }, { "1777777777777777777777", 8 }, { "2000000000000000000000", 8 },
	};
	for (size_t i = 0; i < sizeof(ull) / sizeof(ull[0]); i++)
		show_strtoull(ull[i].s, ull[i].base);
	errno = 0;
	unsigned long ul = strtoul("4294967296", NULL, 10);
	out("strtoul: %lu errno=%s\n", ul, errno_name(errno));
	errno = 0;
	long long ll = strtoll("-9223372036854775809", NULL, 10);
	out("strtoll: %lld errno=%s\n", ll, errno_name(errno));

	static const char *const ai[] = { "42", "  -17abc", "+0", "2147483647", "-2147483648",
					  "abc", "", "0012", " \t\n9" };
	out("atoi:");
	for (size_t i = 0; i < sizeof(ai) / sizeof(ai[0]); i++)
		out(" %d", atoi(ai[i]));
	out("\natol/atoll/atof: %ld %lld %g\n", atol("-1234567890123"), atoll("9223372036854775807"),
	    atof("  6.25e-2x"));
	div_t dv = div(-17, 5);
	ldiv_t ldv = ldiv(17L, -5L);
	out("div: %d %d %ld %ld abs: %d %ld %lld\n", dv.quot, dv.rem, ldv.quot, ldv.rem,
	    abs(-5), labs(-6L), llabs(-7LL));

	section("qsort");
	enum { N = 500 };
	int *v = malloc(N * sizeof(*v));
	lcg_seed(12345);
	for (int i = 0; i < N; i++)
		v[i] = (int)(lcg() % 2000) - 1000;
	qsort(v, N, sizeof(*v), cmp_int);
	unsigned long h = 0;
	for (int i = 0; i < N; i++) {
		if (i && v[i - 1] > v[i])
			fail("qsort order");
		h = h * 1000003 + (unsigned)v[i];
	}
	out("sorted: first %d %d %d last %d %d %d hash %lx\n", v[0], v[1], v[2],
	    v[N - 3], v[N - 2], v[N - 1], h);
	static const int keys[] = { -1000, -999, 0, 1, 500, 999, 1000, 12345 };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int *p = bsearch(&keys[i], v, N, sizeof(*v), cmp_int);
		out("bsearch %d: %s", keys[i], p ? "found" : "absent");
		if (p) {
			/* bsearch may land on any of equal keys: report the run. */
			int lo = (int)(p - v), hi = lo;
			while (lo > 0 && v[lo - 1] == keys[i])
				lo--;
			while (hi < N - 1 && v[hi + 1] == keys[i])
				hi++;
			out(" at [%d, %d]", lo, hi);
		}
		out("\n");
	}
	free(v);

	struct rec *r = malloc(300 * sizeof(*r));
	lcg_seed(99);
	for (int i = 0; i < 300; i++)
		r[i] = (struct rec){ (int)(lcg() % 10), i };
	qsort(r, 300, sizeof(*r), cmp_rec);
	h = 0;
	for (int i = 0; i < 300; i++)
		h = h * 31 + (unsigned)(r[i].key * 1000 + r[i].seq);
	out("qsort records: %d/%d .. %d/%d hash %lx\n", r[0].key, r[0].seq, r[299].key,
	    r[299].seq, h);
	free(r);

	/* Big and tiny element sizes. */
	char letters[] = "thequickbrownfoxjumpsoverthelazydog";
	qsort(letters, strlen(letters), 1, cmp_char);
	out("qsort chars: %s\n", letters);
}

/* ------------------------------------------------------------ malloc */

#define SLOTS 256

struct block {
	unsigned char *p;
	size_t size;
	uint32_t seed;
};

static void
fill(struct block *b)
{
	uint32_t x = b->seed;

	for (size_t i = 0; i < b->size; i++) {
		x = x * 1103515245u + 12345u;
		b->p[i] = (unsigned char)(x >> 16);
	}
}

/* Checks the first n bytes; returns their checksum. */
static uint32_t
verify(const struct block *b, size_t n)
{
	uint32_t x = b->seed, sum = 0;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		if (b->p[i] != (unsigned char)(x >> 16)) {
			fail("malloc block content");
			return 0;
		}
		sum = sum * 31 + b->p[i];
	}
	return sum;
}

static size_t
pick_size(void)
{
	uint32_t r = lcg() % 1000;

	if (r < 5)
		return 128 * 1024 + lcg() % (512 * 1024);	/* above mmap threshold */
	if (r < 60)
		return 4096 + lcg() % 60000;
	if (r < 300)
		return 256 + lcg() % 3840;
	return 1 + lcg() % 256;
}

static void
test_malloc(void)
{
	section("malloc");

	static struct block slot[SLOTS];
	uint32_t total = 0;
	unsigned long mallocs = 0, reallocs = 0, frees = 0, big = 0;

	lcg_seed(2024);
	for (int op = 1; op <= 12000; op++) {
		struct block *b = &slot[lcg() % SLOTS];
		uint32_t what = lcg() % 10;
		if (!b->p) {
			b->size = pick_size();
			b->seed = lcg();
			b->p = (what == 0) ? calloc(1, b->size) : malloc(b->size);
			if (!b->p) {
				fail("malloc returned NULL");
				continue;
			}
			if (what == 0)
				for (size_t i = 0; i < b->size; i++)
					if (b->p[i])
						fail("calloc not zeroed");
			fill(b);
			mallocs++;
			big += b->size > 128 * 1024;
		} else if (what < 4) {
			size_t n = pick_size(), keep = n < b->size ? n : b->size;
			uint32_t before = verify(b, keep);
			unsigned char *q = realloc(b->p, n);
			if (!q) {
				fail("realloc returned NULL");
				continue;
			}
			b->p = q;
			if (verify(b, keep) != before)
				fail("realloc lost content");
			b->size = n;
			fill(b);
			reallocs++;
			big += n > 128 * 1024;
		} else {
			total = total * 31 + verify(b, b->size);
			free(b->p);
			b->p = NULL;
			frees++;
		}
		if (op % 2000 == 0)
			out("malloc churn %d: checksum %08x\n", op, total);
	}
	for (int i = 0; i < SLOTS; i++) {
		if (slot[i].p) {
			total = total * 31 + verify(&slot[i], slot[i].size);
			free(slot[i].p);
			slot[i].p = NULL;
		}
	}
	out("malloc churn: %lu mallocs, %lu reallocs, %lu frees, %lu big; checksum %08x\n",
	    mallocs, reallocs, frees, big, total);

	/* One block grown step by step past the mmap threshold and back. */
	struct block g = { NULL, 0, 77 };
	uint32_t gs = 0;
	for (size_t n = 1000; n < 3 * 1024 * 1024; n = n * 3 / 2) {
		size_t keep = g.size;
		uint32_t before = g.p ? verify(&g, keep) : 0;
		g.p = realloc(g.p, n);
		if (!g.p) {
			fail("growing realloc");
			break;
		}
		if (keep && verify(&g, keep) != before)
			fail("growing realloc lost content");
		g.size = n;
		fill(&g);
		gs = gs * 31 + verify(&g, n);
	}
	while (g.p && g.size > 100) {
		g.size /= 3;
		g.p = realloc(g.p, g.size);
		gs = gs * 31 + verify(&g, g.size);
	}
	free(g.p);
	out("growing block: checksum %08x\n", gs);

	void *al = NULL;
	int rc = posix_memalign(&al, 4096, 10000);
	out("posix_memalign: %d aligned=%d\n", rc, al && ((uintptr_t)al % 4096) == 0);
	free(al);
	al = aligned_alloc(64, 640);
	out("aligned_alloc: aligned=%d\n", al && ((uintptr_t)al % 64) == 0);
	free(al);
	char *z = calloc(300000, 1);
	size_t nz = 0;
	for (size_t i = 0; z && i < 300000; i++)
		nz += z[i] != 0;
	out("big calloc: %s, nonzero %zu\n", z ? "ok" : "NULL", nz);
	free(z);
	errno = 0;
	void *huge = malloc((size_t)1 << 62);
	out("huge malloc: %s errno=%s\n", huge ? "non-NULL" : "NULL", errno_name(errno));

	/* open_memstream grows its buffer with realloc. */
	char *ms = NULL;
	size_t msn = 0;
	FILE *f = open_memstream(&ms, &msn);
	for (int i = 0; i < 2000; i++)
		fprintf(f, "%d,", i * i);
	fclose(f);
	out("open_memstream: %zu bytes, tail %s\n", msn, ms + msn - 12);
	free(ms);
}

/* ------------------------------------------------------------ args, env */

static void
test_args_env(int argc, char **argv)
{
	section("arguments");
	out("argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		out("argv[%d]=<%s> (%zu bytes)\n", i, argv[i], strlen(argv[i]));
	out("argv[argc]=%s\n", argv[argc] ? "non-NULL" : "NULL");

	section("environment");
	static const char *const names[] = { "FOO", "BAZ", "EMPTY", "QUOTED", "UNSET", "PATH" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);
		out("getenv %s: %s%s%s\n", names[i], v ? "<" : "", v ? v : "(unset)", v ? ">" : "");
	}
	int n = 0;
	for (char **e = environ; *e; e++)
		out("environ[%d]=<%s>\n", n++, *e);
	setenv("ADDED", "1", 0);
	setenv("FOO", "changed", 1);
	unsetenv("BAZ");
	out("after setenv/unsetenv: FOO=%s ADDED=%s BAZ=%s\n", getenv("FOO"), getenv("ADDED"),
	    getenv("BAZ") ? getenv("BAZ") : "(unset)");
}

/* ------------------------------------------------------------ threads */

#define NTHREADS 4
static pthread_mutex_t th_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t th_total;
static __thread uint64_t th_local = 5;

static void *
th_sum(void *arg)
{
	uint64_t id = (uint64_t)(uintptr_t)arg, mine = 0;

	th_local = id * 1000;
	for (uint64_t i = 0; i < 50000; i++) {
		pthread_mutex_lock(&th_lock);
		th_total += i * (id + 1);
		pthread_mutex_unlock(&th_lock);
		mine += i % 7;
	}
	return (void *)(uintptr_t)(mine + th_local);
}

/* A three-stage pipeline: each stage squares-and-adds and passes on. */
struct stage {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t item;
	int full, done;
};

static struct stage stages[3] = {
	{ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 },
	{ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 },
	{ PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 },
};

static void
stage_put(struct stage *s, uint64_t v, int done)
{
	pthread_mutex_lock(&s->lock);
	while (s->full)
		pthread_cond_wait(&s->cond, &s->lock);
	s->item = v;
	s->done = done;
	s->full = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static int
stage_get(struct stage *s, uint64_t *v)
{
	pthread_mutex_lock(&s->lock);
	while (!s->full)
		pthread_cond_wait(&s->cond, &s->lock);
	*v = s->item;
	int done = s->done;
	s->full = 0;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return done;
}

static void *
th_stage(void *arg)
{
	int k = (int)(uintptr_t)arg;
	uint64_t v;
	int done;

	do {
		done = stage_get(&stages[k], &v);
		stage_put(&stages[k + 1], (v * v + (uint64_t)k) % 1000003, done);
	} while (!done);
	return NULL;
}

static pthread_barrier_t th_barrier;
static uint64_t th_slots[NTHREADS];

static void *
th_phases(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;

	for (unsigned phase = 1; phase <= 20; phase++) {
		th_slots[id] = th_slots[id] * 31 + phase * (id + 1);
		pthread_barrier_wait(&th_barrier);
		/* Everyone reads every slot between the two barriers. */
		uint64_t seen = 0;
		for (unsigned j = 0; j < NTHREADS; j++)
			seen += th_slots[j];
		pthread_barrier_wait(&th_barrier);
		th_slots[id] ^= seen & 0xFF;
		pthread_barrier_wait(&th_barrier);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[NTHREADS];

	section("threads");
	for (uintptr_t i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, th_sum, (void *)i))
			fail("pthread_create");
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		out("thread %d returned %" PRIuPTR "\n", i, (uintptr_t)r);
	}
	out("mutex total %" PRIu64 ", main's thread-local %" PRIu64 "\n", th_total,
	    th_local);

	for (uintptr_t k = 0; k < 2; k++)
		pthread_create(&t[k], NULL, th_stage, (void *)k);
	uint64_t v, acc = 0;
	for (uint64_t i = 1; i <= 2000; i++) {
		stage_put(&stages[0], i, i == 2000);
		stage_get(&stages[2], &v);
		acc = acc * 17 + v;
	}
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	out("pipeline of 2000 items through 2 threads: %016" PRIx64 "\n", acc);

	pthread_barrier_init(&th_barrier, NULL, NTHREADS);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, th_phases, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&th_barrier);
	for (int i = 0; i < NTHREADS; i++)
		out("barrier slot %d: %016" PRIx64 "\n", i, th_slots[i]);
}

int
main(int argc, char **argv)
{
	out("differential test\n");
	test_args_env(argc, argv);
	test_integers();
	test_floats();
	test_snprintf();
	test_strings();
	test_stdlib();
	test_malloc();
	test_threads();

	/* Through stderr too: flushed in order, so the stream does not matter. */
	fflush(stdout);
	fputs("a line on stderr\n", stderr);
	puts("puts line");
	hash_bytes("puts line\n", 10);
	fwrite("fwrite line\n", 1, 12, stdout);
	hash_bytes("fwrite line\n", 12);

	out("selfcheck failures: %lu\n", selfcheck_failures);
	printf("checksum %016llx\n", (unsigned long long)checksum);
	return 7;
}
