/* toro-prof: the pieces shared by the recorder and the reports.  See
 * toro-prof(1) for the command line and the recording format. */
#ifndef TORO_PROF_H
#define TORO_PROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROF_MAX_DEPTH 128	/* frames kept per sample */
#define PROF_MAX_CPUS 256

/* ---------------------------------------------------------------- image.c */
/* The image as the recorder needs it: function starts (from .symtab),
 * executable bytes (from PT_LOAD segments) and an identity hash. */
struct image_func {
	uint64_t start, size;
	const char *name;
};

struct image {
	char *path;
	int fd;
	void *elf;			/* Elf * */
	struct image_func *funcs;	/* sorted by start */
	size_t nfuncs;
	struct image_seg {
		uint64_t vaddr, filesz;
		int exec;
		const unsigned char *data;
	} *segs;
	size_t nsegs;
	unsigned char *map;		/* the whole file */
	size_t mapsize;
	uint64_t id;			/* FNV-1a over the executable segments */
};

int image_open(struct image *im, const char *path, char *err, size_t errlen);
void image_close(struct image *im);
const struct image_func *image_func_at(const struct image *im, uint64_t addr);
const struct image_func *image_func_named(const struct image *im, const char *name);
/* Copies LEN code bytes at ADDR from an executable segment; 0 or -1. */
int image_code(const struct image *im, uint64_t addr, void *buf, size_t len);
int image_is_code(const struct image *im, uint64_t addr);
/* The address of any symbol (a variable too) by name; 0 or -1. */
int image_symbol(const struct image *im, const char *name, uint64_t *addr);

/* ---------------------------------------------------------------- walk.c */
struct regs {
	uint64_t rip, rsp, rbp;
};

/* Reads LEN bytes of guest memory at ADDR; 0, or -1 if unreadable. */
typedef int (*mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Walks the frame-pointer chain from R.  PCS[0] is the interrupted RIP,
 * PCS[1..] return addresses.  Returns the number of entries. */
int walk_stack(const struct image *im, const struct regs *r,
	       mem_read_fn rd, void *ctx, uint64_t *pcs, int max);
/* The return address of the innermost function while %rbp does not
 * frame it (prologue, epilogue, frameless libc), read at R's %rsp; or 0. */
uint64_t walk_leaf_return(const struct image *im, const struct regs *r, mem_read_fn rd, void *ctx);
/* Is a vCPU with this RIP halted or in the idle loop (by symbol)? */
int walk_is_halt(const struct image *im, uint64_t rip);

/* ---------------------------------------------------------------- target */
/* A way to reach a running QEMU: the gdbstub (rsp.c) or QMP (qmp.c). */
struct target {
	const char *name;
	int ncpus;
	/* 0 stopped, 1 the guest has gone, -1 error (message in err). */
	int (*stop)(struct target *t);
	int (*regs)(struct target *t, struct regs *out);	/* every CPU */
	int (*read)(struct target *t, uint64_t addr, void *buf, size_t len);
	/* Writes guest memory (the gdbstub only; NULL for QMP). */
	int (*write)(struct target *t, uint64_t addr, const void *buf, size_t len);
	int (*resume)(struct target *t);
	/* An NMI to every vCPU (QEMU's monitor `nmi`): in-guest sampling's
	 * nudge so that busy cores pick up a new rate at once.  0 or -1. */
	int (*nmi)(struct target *t);
	void (*close)(struct target *t);
	size_t read_max;		/* largest single read */
	char err[256];
};

struct target *rsp_connect(const char *hostport, double wait_s, char *err, size_t errlen);
struct target *qmp_connect(const char *path, double wait_s, char *err, size_t errlen);

/* ---------------------------------------------------------------- recfile.c */
struct sample {
	double t;		/* seconds since the recording started */
	int cpu;
	int depth;
	uint64_t *pcs;
};

struct recording {
	char *image;		/* path as recorded */
	uint64_t image_id;
	char method[16];
	int ncpus;
	double rate, duration, stopped, achieved;
	size_t lost;		/* in-guest: samples overwritten before read */
	int ended_by_guest;
	struct sample *s;
	size_t n, cap;
};

int rec_write_header(FILE *f, const struct recording *r);
int rec_write_sample(FILE *f, const struct sample *s);
int rec_write_trailer(FILE *f, const struct recording *r);
int rec_load(struct recording *r, const char *path, char *err, size_t errlen);
void rec_free(struct recording *r);

/* ---------------------------------------------------------------- symbols.c */
struct frame {
	const char *func;	/* never NULL: "0x..." when unknown */
	const char *file;	/* may be NULL */
	int line;
	int inlined;		/* an inlined instance inside the next frame */
};

struct symbols;
struct symbols *sym_open(const char *path, char *err, size_t errlen);
void sym_close(struct symbols *s);
/* The logical frames (innermost first) at ADDR; CALLSITE: ADDR is a return
 * address (look up ADDR-1).  The array belongs to S. */
int sym_lookup(struct symbols *s, uint64_t addr, int callsite, const struct frame **out);

/* ---------------------------------------------------------------- stacks.c */
/* A recording symbolised once: each sample's logical frames, as indices
 * into a table of names, innermost first. */
struct stacks {
	char **names;		/* "func" or, with lines, "func (file:line)" */
	size_t nnames, capnames;
	void *index;		/* name -> id */
	struct sstack {
		int cpu, idle, depth;
		int *ids;
	} *st;
	size_t n;
	int ncpus;
};

int stacks_build(struct stacks *out, const struct recording *r, struct symbols *sym,
		 const struct image *im, int lines);
void stacks_free(struct stacks *s);
int stacks_find(const struct stacks *s, const char *name);

/* ---------------------------------------------------------------- report.c, flame.c */
struct report_opts {
	int lines;
	const char *callers, *callees;
	int limit;
	int include_idle;
};
int report_print(FILE *out, const struct recording *r, const struct stacks *s,
		 const struct report_opts *o);
int folded_print(FILE *out, const struct stacks *s, int per_cpu, int include_idle);
int flame_svg(FILE *out, const struct stacks *s, const char *title, int include_idle);

/* ---------------------------------------------------------------- record.c */
struct record_opts {
	const char *gdb, *qmp;	/* exactly one */
	const char *image, *output;
	double rate, duration, wait;
	int max_depth, quiet;
	int in_guest;		/* --in-guest: drain the kernel's rings */
	double drain;		/* --drain: seconds between drains */
};
int record_run(const struct record_opts *o);
/* record.c's helpers, shared with inguest.c. */
double prof_now(void);
void prof_sleep_until(double t);
void prof_catch_signals(void);	/* ^C, SIGTERM: prof_interrupted */
int record_check_image(struct target *t, const struct image *im, char *err, size_t errlen);
extern volatile int prof_interrupted;

/* ---------------------------------------------------------------- inguest.c */
/* Ring decoding, pure (unit-tested): one core's ring as read from the
 * guest, and the head before and after that read. */
struct prof_record;
struct ig_core {
	uint64_t tail;		/* the next record wanted */
	uint64_t got, lost;
};
typedef int (*ig_emit_fn)(void *ctx, int cpu, const struct prof_record *r);
int ig_consume(struct ig_core *st, int cpu, const void *ring, uint32_t records,
	       uint64_t head_before, uint64_t head_after, ig_emit_fn emit, void *ctx);
/* A record as a stack: RIP, the leaf's return address if %rbp did not
 * frame it, then the frame-pointer chain while it points into code. */
int ig_stack(const struct image *im, const struct prof_record *r, uint64_t *pcs, int max);
int inguest_run(const struct record_opts *o);

#endif
