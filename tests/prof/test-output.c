/* test-output.c: toro-prof's outputs from a known set of samples over
 * prof-fixture -- 6 in capture (via the inlined helper), 3 in middle, 1 in
 * outer, split over two vCPUs -- must give exactly these
 * folded stacks, these self and total shares and callers, and a
 * well-formed SVG whose frames carry these counts.  It also writes and
 * reads back a recording file.  It does not sample anything. */
#include <stdlib.h>
#include <string.h>

#include "prof.h"
#include "tests/unit/tap.h"

#define FIXTURE "./prof-fixture"

static struct image im;

/* The return address of CALLER's call to CALLEE. */
static uint64_t
ret_into(const char *caller, const char *callee)
{
	const struct image_func *a = image_func_named(&im, caller), *b = image_func_named(&im, callee);

	for (uint64_t p = a ? a->start : 0; a && b && p + 5 <= a->start + a->size; p++) {
		unsigned char c[5];
		int32_t rel;
		if (image_code(&im, p, c, 5) || c[0] != 0xe8)
			continue;
		memcpy(&rel, c + 1, 4);
		if (p + 5 + rel == b->start)
			return p + 5;
	}
	return 0;
}

/* A tiny XML well-formedness check: balanced tags, quoted attributes,
 * comments, CDATA and the declaration.  Enough for our own SVG. */
static int
well_formed(const char *x, char *why, size_t whylen)
{
	const char *stack[64];
	size_t lens[64];
	int depth = 0, roots = 0;

	for (const char *p = x; *p;) {
		if (*p != '<') {
			if (*p == '&' && !strchr(p, ';')) {
				snprintf(why, whylen, "bare &");
				return 0;
			}
			p++;
			continue;
		}
		if (!strncmp(p, "<?", 2) || !strncmp(p, "<!--", 4) || !strncmp(p, "<![CDATA[", 9)) {
			const char *end = strstr(p, p[1] == '?' ? "?>" : p[2] == '-' ? "-->" : "]]>");
			if (!end) {
				snprintf(why, whylen, "unterminated %.9s", p);
				return 0;
			}
			p = end + 2;
			continue;
		}
		int closing = p[1] == '/';
		const char *name = p + 1 + closing;
		size_t n = strcspn(name, " \t\n/>");
		const char *q = name + n;
		char quote = 0;
		for (; *q && (quote || *q != '>'); q++)
			if (*q == '"' || *q == '\'')
				quote = quote == *q ? 0 : quote ? quote : *q;
			else if (!quote && *q == '<') {
				snprintf(why, whylen, "< inside a tag");
				return 0;
			}
		if (!*q) {
			snprintf(why, whylen, "unterminated tag");
			return 0;
		}
		int empty = q[-1] == '/';
		if (closing) {
			if (!depth || lens[depth - 1] != n || strncmp(stack[depth - 1], name, n)) {
				snprintf(why, whylen, "</%.*s> closes nothing open", (int)n, name);
				return 0;
			}
			depth--;
		} else if (!empty) {
			if (depth == 0)
				roots++;
			if (depth == 64)
				return 0;
			stack[depth] = name;
			lens[depth++] = n;
		}
		p = q + 1;
	}
	if (depth || roots != 1)
		snprintf(why, whylen, "%d tags left open, %d roots", depth, roots);
	return depth == 0 && roots == 1;
}

static char *
capture(int (*fn)(FILE *, const struct stacks *, int, int), const struct stacks *st, int a, int b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, st, a, b);
	fclose(f);
	return buf;
}

int
main(void)
{
	char err[512];
	struct recording rec = {0};

	plan(20);
	if (image_open(&im, FIXTURE, err, sizeof err)) {
		printf("Bail out! %s\n", err);
		return 99;
	}
	uint64_t r_mid = ret_into("middle", "capture"), r_out = ret_into("outer", "middle"),
		 r_main = ret_into("main", "outer");
	ok(r_mid && r_out && r_main, "found the fixture's call sites");
	uint64_t cap = image_func_named(&im, "capture")->start + 1;
	uint64_t mid = image_func_named(&im, "middle")->start;
	uint64_t out = image_func_named(&im, "outer")->start;
	uint64_t s6[] = {cap, r_mid, r_out, r_main}, s3[] = {mid, r_out, r_main}, s1[] = {out, r_main};

	/* Through the file format and back. */
	FILE *f = fopen("output.tmp", "w");
	rec = (struct recording){.image = (char *)FIXTURE, .image_id = im.id, .ncpus = 2, .rate = 100};
	strcpy(rec.method, "gdb");
	rec_write_header(f, &rec);
	for (int i = 0; i < 10; i++) {
		struct sample s = {i * 0.01, i < 6 ? 0 : 1, 0, NULL};
		s.pcs = i < 6 ? s6 : i < 9 ? s3 : s1;
		s.depth = i < 6 ? 4 : i < 9 ? 3 : 2;
		rec_write_sample(f, &s);
	}
	rec.n = 10;
	rec.duration = 0.1;
	rec.ended_by_guest = 1;
	fclose(f);
	f = fopen("output.tmp", "a");
	rec_write_trailer(f, &rec);
	fclose(f);
	struct recording back;
	ok(rec_load(&back, "output.tmp", err, sizeof err) == 0, "the recording reads back");
	is_int(back.n, 10, "10 samples");
	is_int(back.ncpus, 2, "2 vCPUs");
	ok(back.image_id == im.id && !strcmp(back.image, FIXTURE) && !strcmp(back.method, "gdb"),
	   "image, image-id and method");
	ok(back.ended_by_guest && back.duration > 0.09, "the trailer says the guest ended it");
	ok(rec_load(&rec, "/etc/passwd", err, sizeof err) < 0 && strstr(err, "not a toro-prof recording"),
	   "another file is not a recording");
	remove("output.tmp");

	struct symbols *sym = sym_open(FIXTURE, err, sizeof err);
	struct stacks st;
	ok(sym && stacks_build(&st, &back, sym, &im, 0) == 0, "symbolised");

	char *folded = capture(folded_print, &st, 0, 0);
	is_str(folded, "main;outer 1\nmain;outer;middle 3\nmain;outer;middle;helper;capture 6\n",
	       "folded stacks, root first, with the inlined helper");
	free(folded);
	folded = capture(folded_print, &st, 1, 0);
	ok(strstr(folded, "cpu0;main;outer;middle;helper;capture 6\n") &&
	   strstr(folded, "cpu1;main;outer;middle 3\n"), "folded --per-cpu puts the vCPU at the root");
	free(folded);

	char *rep = NULL;
	size_t len = 0;
	struct report_opts ro = {.limit = 40};
	f = open_memstream(&rep, &len);
	report_print(f, &back, &st, &ro);
	fclose(f);
	ok(strstr(rep, "  60.00   60.00 100.00   0.00  capture\n") != NULL, "capture: 60%% self, all on cpu0");
	ok(strstr(rep, "  30.00   90.00   0.00  75.00  middle\n") != NULL, "middle: 30%% self, 90%% total, 75%% of cpu1");
	ok(strstr(rep, "   0.00  100.00   0.00   0.00  main\n") != NULL, "main: 100%% total");
	ok(strstr(rep, "samples: 10 (cpu0 6, cpu1 4)") != NULL, "samples split by vCPU");
	if (!strstr(rep, "capture\n"))
		diag("%s", rep);
	free(rep);
	ro.callers = "capture";
	f = open_memstream(&rep, &len);
	report_print(f, &back, &st, &ro);
	fclose(f);
	ok(strstr(rep, "      6 100.00%  capture <- helper <- middle <- outer <- main\n") != NULL,
	   "--callers capture: the whole chain down to main");
	free(rep);

	char *svg = NULL;
	f = open_memstream(&svg, &len);
	flame_svg(f, &st, "test <&> title", 0);
	fclose(f);
	char why[128] = "";
	ok(well_formed(svg, why, sizeof why), "the SVG is well-formed XML %s", why);
	ok(strstr(svg, "<title>capture (6 samples, 60.00%)</title>") != NULL, "capture's frame: 6 samples, 60%%");
	ok(strstr(svg, "<title>main (10 samples, 100.00%)</title>") != NULL, "main's frame spans all 10");
	ok(strstr(svg, "test &lt;&amp;&gt; title") != NULL, "text is escaped");
	ok(strstr(svg, "<script") && strstr(svg, "zoom("), "carries its zoom script");
	free(svg);
	stacks_free(&st);
	sym_close(sym);
	rec_free(&back);
	image_close(&im);
	return done_testing();
}
