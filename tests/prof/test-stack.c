/* test-stack.c: toro-prof's stack walking and symbolisation, on a real
 * memory snapshot -- prof-fixture (built with -g and frame pointers)
 * dumps its own registers and stack, and the walk over that snapshot,
 * symbolised through libdw against the fixture's ELF, must give capture
 * <- helper (inlined) <- middle <- outer <- main with the fixture's own
 * source lines.  Then the prologue and epilogue cases of walk.c on
 * synthetic registers, and the errors for a stripped or foreign file.
 * It does not talk to QEMU: tests/prof/prof.test does. */
#include <stdlib.h>
#include <string.h>

#include "prof.h"
#include "tests/unit/tap.h"

#define FIXTURE "./prof-fixture"

struct snap {
	uint64_t rip, rsp, rbp, base;
	size_t len;
	int lines[4];		/* capture, helper, middle, outer */
	unsigned char *mem;
};

static int
snap_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct snap *s = ctx;

	if (addr < s->base || addr - s->base > s->len || len > s->len - (addr - s->base))
		return -1;
	memcpy(buf, s->mem + (addr - s->base), len);
	return 0;
}

static int
load_snap(struct snap *s, const char *path)
{
	unsigned long long a, b, c;
	FILE *f = fopen(path, "rb");

	if (!f || fscanf(f, "%llx %llx %llx %zx %d %d %d %d", &a, &b, &c, &s->len, &s->lines[0],
			 &s->lines[1], &s->lines[2], &s->lines[3]) != 8 || fgetc(f) != '\n')
		return -1;
	s->rip = a, s->rsp = b, s->rbp = c, s->base = b;
	s->mem = malloc(s->len);
	int r = fread(s->mem, 1, s->len, f) == s->len ? 0 : -1;
	fclose(f);
	return r;
}

static void
snapshot_tests(struct image *im, struct symbols *sym)
{
	struct snap s;
	uint64_t pcs[PROF_MAX_DEPTH];
	const char *want[] = {"capture", "helper", "middle", "outer", "main"};
	const struct frame *fr;
	const char *got[16];
	int gotline[16], inl[16], n = 0;

	if (system(FIXTURE " snapshot.tmp") != 0 || load_snap(&s, "snapshot.tmp")) {
		ok(0, "prof-fixture wrote a stack snapshot");
		return;
	}
	ok(1, "prof-fixture wrote a stack snapshot (%zu bytes)", s.len);
	struct regs r = {s.rip, s.rsp, s.rbp};
	int depth = walk_stack(im, &r, snap_read, &s, pcs, PROF_MAX_DEPTH);
	is_int(depth, 4, "the walk finds 4 frames: the RIP and three return addresses, ending at main");
	for (int k = 0; k < depth && n < 16; k++) {
		int nf = sym_lookup(sym, pcs[k], k > 0, &fr);
		for (int j = 0; j < nf && n < 16; j++, n++) {
			got[n] = fr[j].func;
			gotline[n] = fr[j].line;
			inl[n] = fr[j].inlined;
		}
	}
	is_int(n, 5, "symbolised, with the inlined helper, 5 logical frames");
	for (int i = 0; i < 5 && i < n; i++)
		is_str(got[i], want[i], "frame %d is %s", i, want[i]);
	if (n >= 5) {
		ok(inl[1] && !inl[0] && !inl[2], "only helper is marked inlined");
		is_int(gotline[1], s.lines[1], "helper's frame is at its call to capture (line %d)", s.lines[1]);
		is_int(gotline[2], s.lines[2], "middle's frame is where helper was inlined (line %d)", s.lines[2]);
		is_int(gotline[3], s.lines[3], "outer's frame is at its call to middle (line %d)", s.lines[3]);
	}
	/* A frame chain that loops back must end the walk, not hang it. */
	uint64_t *slot = (uint64_t *)(s.mem + (s.rbp - s.base));
	uint64_t saved = slot[0];
	slot[0] = s.rbp;
	depth = walk_stack(im, &r, snap_read, &s, pcs, PROF_MAX_DEPTH);
	ok(depth == 2, "a saved %%rbp that does not move up ends the walk (%d frames)", depth);
	slot[0] = saved;
	depth = walk_stack(im, &r, snap_read, &s, pcs, 2);
	is_int(depth, 2, "the walk keeps to the depth asked for");
	free(s.mem);
	remove("snapshot.tmp");
}

/* At the first instruction of a function %rbp is still the caller's: the
 * return address on top of the stack must be taken. */
static void
prologue_tests(struct image *im)
{
	const struct image_func *outer = image_func_named(im, "outer");
	const struct image_func *mainf = image_func_named(im, "main");
	uint64_t mem[4], pcs[8];
	struct snap s = {.base = 0x10000, .len = sizeof mem, .mem = (unsigned char *)mem};

	if (!outer || !mainf) {
		ok(0, "the fixture has outer and main");
		return;
	}
	/* Find the return address of main's call to outer. */
	uint64_t ret = 0;
	for (uint64_t a = mainf->start; a + 5 <= mainf->start + mainf->size; a++) {
		unsigned char b[5];
		int32_t rel;
		if (image_code(im, a, b, 5) || b[0] != 0xe8)
			continue;
		memcpy(&rel, b + 1, 4);
		if (a + 5 + rel == outer->start) {
			ret = a + 5;
			break;
		}
	}
	ok(ret != 0, "found main's call to outer");
	mem[0] = ret;		/* [rsp]: the return address */
	mem[1] = 0;
	struct regs r = {outer->start, 0x10000, 0};
	int n = walk_stack(im, &r, snap_read, &s, pcs, 8);
	ok(n == 2 && pcs[1] == ret, "at a function's first instruction the caller comes from [rsp]");
	mem[0] = 0x10010;	/* pushed %rbp, then the return address */
	mem[1] = ret;
	unsigned char c[4];
	uint64_t push = outer->start;
	if (!image_code(im, push, c, 4) && c[0] == 0xf3 && c[1] == 0x0f)
		push += 4;
	r = (struct regs){push + 1, 0x10000, 0};
	n = walk_stack(im, &r, snap_read, &s, pcs, 8);
	ok(n == 2 && pcs[1] == ret, "after push %%rbp the caller comes from [rsp+8]");
	r = (struct regs){outer->start + 0x10 < outer->start + outer->size ? outer->start + 0x10 : outer->start,
			  0x10000, 0x8};
	n = walk_stack(im, &r, snap_read, &s, pcs, 8);
	ok(n >= 1 && pcs[0] == r.rip, "an unreadable frame pointer ends the walk at the RIP");
}

static void
error_tests(void)
{
	struct image im;
	char err[512];

	ok(image_open(&im, "/nonexistent/app.elf", err, sizeof err) < 0 && strstr(err, "No such file"),
	   "a missing image is an error naming the file");
	if (system("strip -o fixture-stripped.tmp " FIXTURE " 2>/dev/null") == 0) {
		int r = image_open(&im, "fixture-stripped.tmp", err, sizeof err);
		ok(r < 0 && strstr(err, "stripped"), "a stripped image is refused: %s", err);
		remove("fixture-stripped.tmp");
	} else {
		ok(1, "# SKIP strip(1) is not available");
	}
	ok(image_open(&im, "/etc/passwd", err, sizeof err) < 0 && strstr(err, "not an x86-64 ELF"),
	   "a file that is not an ELF image is refused");
}

int
main(void)
{
	struct image im;
	char err[512];

	plan(22);
	if (image_open(&im, FIXTURE, err, sizeof err)) {
		printf("Bail out! %s\n", err);
		return 99;
	}
	struct symbols *sym = sym_open(FIXTURE, err, sizeof err);
	if (!sym) {
		printf("Bail out! %s\n", err);
		return 99;
	}
	const struct image_func *f = image_func_named(&im, "middle");
	const struct frame *fr;
	int n = f ? sym_lookup(sym, f->start, 0, &fr) : 0;
	ok(n >= 1 && !strcmp(fr[n - 1].func, "middle") && fr[n - 1].file && strstr(fr[n - 1].file, "fixture.c"),
	   "middle's first address is middle, in fixture.c");
	snapshot_tests(&im, sym);
	prologue_tests(&im);
	error_tests();
	sym_close(sym);
	image_close(&im);
	return done_testing();
}
