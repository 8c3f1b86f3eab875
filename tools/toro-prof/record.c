/* record.c: `toro-prof record` -- connect to a running QEMU through one
 * target (rsp.c or qmp.c), check that it runs the image we were given,
 * then sample on a steady clock: stop the VM, read every vCPU's registers,
 * walk each stack (walk.c) through a small cache of stack blocks so that a
 * deep stack costs a few memory reads, resume, write one line per vCPU.
 * It measures what it costs: the rounds per second achieved and the time
 * the guest spent stopped.  A guest that exits ends the recording
 * normally, with what was gathered.  It does not symbolise: reports do. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prof.h"

#define BLOCK 512	/* stack bytes fetched per memory read */
#define NBLOCKS 16

struct stack_cache {
	struct target *t;
	int n;
	struct {
		uint64_t base;
		int ok;
		unsigned char data[BLOCK];
	} b[NBLOCKS];
	unsigned long reads;
};

static int
cached_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct stack_cache *c = ctx;
	unsigned char *out = buf;

	while (len) {
		uint64_t base = addr & ~(uint64_t)(BLOCK - 1);
		size_t off = addr - base, k = BLOCK - off < len ? BLOCK - off : len;
		int i = 0;
		while (i < c->n && c->b[i].base != base)
			i++;
		if (i == c->n) {
			if (c->n == NBLOCKS)
				i = c->n = 0;	/* a very deep stack: start over */
			c->b[i].base = base;
			c->b[i].ok = c->t->read(c->t, base, c->b[i].data, BLOCK) == 0;
			c->reads++;
			c->n++;
		}
		if (!c->b[i].ok)
			return -1;
		memcpy(out, c->b[i].data + off, k);
		out += k;
		addr += k;
		len -= k;
	}
	return 0;
}

double
prof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
prof_sleep_until(double t)
{
	struct timespec ts = {(time_t)t, (long)((t - (time_t)t) * 1e9)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

volatile int prof_interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	prof_interrupted = 1;
}

void
prof_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The image's code in guest memory must be the image's code on disk: a
 * few functions spread over .text are compared byte for byte. */
int
record_check_image(struct target *t, const struct image *im, char *err, size_t errlen)
{
	const struct image_func *pick[8];
	int n = 0;

	if ((pick[n] = image_func_named(im, "main")))
		n++;
	if ((pick[n] = image_func_named(im, "idle_loop")))
		n++;
	for (int q = 1; q <= 4; q++) {
		const struct image_func *f = &im->funcs[im->nfuncs * q / 5 < im->nfuncs ? im->nfuncs * q / 5 : 0];
		if (f->size >= 8 && image_is_code(im, f->start))
			pick[n++] = f;
	}
	for (int i = 0; i < n; i++) {
		unsigned char want[32], got[32];
		size_t len = pick[i]->size < sizeof want ? pick[i]->size : sizeof want;
		if (image_code(im, pick[i]->start, want, len))
			continue;
		if (t->read(t, pick[i]->start, got, len) || memcmp(want, got, len)) {
			snprintf(err, errlen,
				 "%s does not match the running guest: the code of %s at 0x%llx differs "
				 "(profile the image the guest was booted from)", im->path,
				 pick[i]->name ? pick[i]->name : "?", (unsigned long long)pick[i]->start);
			return -1;
		}
	}
	return 0;
}

static int
sample_round(struct target *t, const struct image *im, const struct record_opts *o, FILE *f,
	     double t0, struct regs *regs, struct stack_cache *cache)
{
	uint64_t pcs[PROF_MAX_DEPTH];
	int r = t->regs(t, regs);

	if (r)
		return r;
	double ts = prof_now() - t0;
	for (int c = 0; c < t->ncpus; c++) {
		if (regs[c].rip == 0)
			continue;	/* no registers from this vCPU this round */
		cache->n = 0;
		struct sample s = {ts, c, 0, pcs};
		s.depth = walk_stack(im, &regs[c], cached_read, cache, pcs, o->max_depth);
		if (rec_write_sample(f, &s))
			return -1;
	}
	return 0;
}

int
record_run(const struct record_opts *o)
{
	struct image im;
	char err[512];
	struct target *t;
	FILE *f = NULL;
	int status = 1;

	if (o->in_guest)
		return inguest_run(o);
	if (image_open(&im, o->image, err, sizeof err)) {
		fprintf(stderr, "toro-prof: %s\n", err);
		return 1;
	}
	t = o->gdb ? rsp_connect(o->gdb, o->wait, err, sizeof err)
		   : qmp_connect(o->qmp, o->wait, err, sizeof err);
	if (!t) {
		fprintf(stderr, "toro-prof: %s\n", err);
		image_close(&im);
		return 1;
	}
	if (record_check_image(t, &im, err, sizeof err)) {
		fprintf(stderr, "toro-prof: %s\n", err);
		goto out;
	}
	f = fopen(o->output, "w");
	if (!f) {
		fprintf(stderr, "toro-prof: %s: %m\n", o->output);
		goto out;
	}
	struct recording rec = {.image = im.path, .image_id = im.id, .ncpus = t->ncpus, .rate = o->rate};
	snprintf(rec.method, sizeof rec.method, "%s", t->name);
	rec_write_header(f, &rec);

	prof_catch_signals();
	struct regs *regs = calloc(t->ncpus, sizeof *regs);
	struct stack_cache *cache = calloc(1, sizeof *cache);
	cache->t = t;
	double period = 1.0 / o->rate, t0 = prof_now(), next = t0, end = t0 + o->duration;
	int r = t->resume(t);	/* the gdbstub paused the VM when we connected */
	while (!r && !prof_interrupted) {
		if (next > end)
			break;
		prof_sleep_until(next);
		double ts = prof_now();
		if (ts >= end || prof_interrupted)
			break;
		r = t->stop(t);
		if (!r)
			r = sample_round(t, &im, o, f, t0, regs, cache);
		if (!r)
			r = t->resume(t);
		double te = prof_now();
		rec.stopped += te - ts;
		if (!r)
			rec.n++;
		next += period;
		if (next < te)
			next = te;	/* behind: sample as fast as we can, no burst */
	}
	rec.duration = prof_now() - t0;
	rec.achieved = rec.duration > 0 ? rec.n / rec.duration : 0;
	rec.ended_by_guest = r == 1;
	if (r < 0)
		fprintf(stderr, "toro-prof: %s\n", t->err[0] ? t->err : "lost the target");
	rec_write_trailer(f, &rec);
	if (!o->quiet) {
		if (rec.ended_by_guest)
			fprintf(stderr, "toro-prof: the guest exited after %.2f s; recording ended\n", rec.duration);
		fprintf(stderr,
			"toro-prof: %zu rounds x %d vCPU%s in %.2f s: %.1f/s achieved (%g/s requested); "
			"guest stopped %.3f s (%.1f%%); %lu stack reads; wrote %s\n",
			rec.n, t->ncpus, t->ncpus == 1 ? "" : "s", rec.duration, rec.achieved, o->rate,
			rec.stopped, rec.duration > 0 ? 100 * rec.stopped / rec.duration : 0,
			cache->reads, o->output);
	}
	status = r < 0 || ferror(f) ? 1 : 0;
	free(regs);
	free(cache);
out:
	if (f && fclose(f))
		status = 1;
	t->close(t);
	image_close(&im);
	return status;
}
