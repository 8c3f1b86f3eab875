/* inguest.c: `toro-prof record --in-guest` -- the kernel samples itself
 * (lib/kernel/prof.c: each core's timer interrupt writes its interrupted
 * RIP and frame-pointer chain into the core's ring) and toro-prof only
 * drains the rings.  Through the gdbstub it writes the rate into
 * toro_prof_hz (the symbol table gives the address) and finds the rings
 * through toro_prof; then every --drain interval it reads every core's
 * head and the new records, either with the VM stopped once (gdbstub `m`)
 * or, with --qmp, without stopping it at all (QMP pmemsave, which reads
 * guest RAM while the vCPUs run; the head read after the records tells
 * which of them the kernel may have overwritten meanwhile).  At the end it
 * sets the rate back to 0.  Reports read the recording like any other. */
#include <stdlib.h>
#include <string.h>

#define TORO_PROF_HOST
#include "lib/kernel/prof.h"
#include "prof.h"

#define GDB_READ_MAX 2048	/* QEMU's gdbstub: 4096-byte packets, hex */

/* ------------------------------------------------------- ring decoding */

int
ig_consume(struct ig_core *st, int cpu, const void *ring, uint32_t records,
	   uint64_t head_before, uint64_t head_after, ig_emit_fn emit, void *ctx)
{
	const struct prof_record *rec = ring;
	uint64_t start = st->tail;

	if (head_before < start || head_after < head_before) {
		st->tail = head_after;	/* the guest started again */
		return 0;
	}
	/* While the ring was read the kernel may have been writing record
	 * head_after, over record head_after - records. */
	uint64_t oldest = head_after >= records ? head_after - records + 1 : 0;
	if (oldest > head_before)
		oldest = head_before;
	if (start < oldest) {
		st->lost += oldest - start;
		start = oldest;
	}
	for (uint64_t i = start; i < head_before; i++) {
		const struct prof_record *r = &rec[i & (records - 1)];
		if (r->seq != i) {
			st->lost++;
			continue;
		}
		st->got++;
		if (emit && emit(ctx, cpu, r))
			return -1;
	}
	st->tail = head_before;
	return 0;
}

/* The two words the kernel copied from the top of the stack. */
static int
top_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct prof_record *r = ctx;

	if (addr < r->rsp || addr + len > r->rsp + sizeof r->top || addr + len < addr)
		return -1;
	memcpy(buf, (const char *)r->top + (addr - r->rsp), len);
	return 0;
}

int
ig_stack(const struct image *im, const struct prof_record *r, uint64_t *pcs, int max)
{
	int n = 0, depth = r->info & PROF_INFO_DEPTH;

	if (max <= 0)
		return 0;
	pcs[n++] = r->rip;
	struct regs rg = {r->rip, r->rsp, 0};
	uint64_t lr = walk_leaf_return(im, &rg, top_read, (void *)r);
	if (lr && n < max)
		pcs[n++] = lr;
	if (depth > PROF_FRAMES)
		depth = PROF_FRAMES;
	for (int i = 0; i < depth && n < max && image_is_code(im, r->ret[i]); i++)
		pcs[n++] = r->ret[i];
	return n;
}

/* ------------------------------------------------------------ draining */

struct drain {
	const struct record_opts *o;
	const struct image *im;
	struct target *gdb, *qmp;
	uint64_t hz_addr, prof_addr;
	struct prof_header h;
	size_t ring_bytes;
	unsigned char *rings;		/* every core's ring, as last read */
	struct prof_core *cores, *prev;	/* heads after, and before, the read */
	struct ig_core st[PROF_MAX_CPUS];
	FILE *f;
	double t0, now;
	double t_first, t_last;	/* the rings found; the last drain */
	double stopped;
	unsigned long drains, reads;
};

static int
read_mem(struct drain *d, struct target *t, uint64_t addr, void *buf, size_t len)
{
	size_t max = t == d->gdb ? GDB_READ_MAX : len;

	for (size_t off = 0; off < len; off += max) {
		d->reads++;
		if (t->read(t, addr + off, (char *)buf + off, len - off < max ? len - off : max))
			return -1;
	}
	return 0;
}

static int
emit(void *ctx, int cpu, const struct prof_record *r)
{
	struct drain *d = ctx;
	uint64_t pcs[PROF_MAX_DEPTH];
	struct sample s = {d->now - d->t0, cpu, 0, pcs};

	s.depth = ig_stack(d->im, r, pcs, d->o->max_depth);
	return rec_write_sample(d->f, &s);
}

/* Finds the rings once the kernel has made them (prof_init, at boot).
 * 0 found, 2 not yet, -1 an error. */
static int
find_rings(struct drain *d, struct target *t, char *err, size_t errlen)
{
	uint64_t p = 0;

	if (read_mem(d, t, d->prof_addr, &p, sizeof p))
		return -1;
	if (!p)
		return 2;
	if (read_mem(d, t, p, &d->h, sizeof d->h))
		return -1;
	if (d->h.magic != PROF_MAGIC || d->h.version != PROF_VERSION ||
	    d->h.record_size != sizeof(struct prof_record) || !d->h.records ||
	    (d->h.records & (d->h.records - 1)) || !d->h.ncpus || d->h.ncpus > PROF_MAX_CPUS) {
		snprintf(err, errlen, "the guest's sample rings are not version %d "
			 "(magic %llx, version %u): a different Toro built the image",
			 PROF_VERSION, (unsigned long long)d->h.magic, d->h.version);
		return -1;
	}
	d->ring_bytes = (size_t)d->h.records * d->h.record_size;
	d->rings = malloc(d->ring_bytes * d->h.ncpus);
	d->cores = calloc(d->h.ncpus, sizeof *d->cores);
	d->prev = calloc(d->h.ncpus, sizeof *d->prev);
	if (!d->rings || !d->cores || !d->prev) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (read_mem(d, t, d->h.cores, d->prev, d->h.ncpus * sizeof *d->prev))
		return -1;
	for (unsigned c = 0; c < d->h.ncpus; c++)
		d->st[c].tail = d->prev[c].head;	/* the recording starts now */
	d->t_first = d->t_last = prof_now();
	return 0;
}

/* The gdbstub way: stop once, read the heads and what is new, resume. */
static int
drain_gdb(struct drain *d)
{
	struct target *t = d->gdb;
	double ts = prof_now();
	int r = t->stop(t);

	if (r)
		return r;
	r = read_mem(d, t, d->h.cores, d->cores, d->h.ncpus * sizeof *d->cores);
	for (unsigned c = 0; !r && c < d->h.ncpus; c++) {
		uint64_t head = d->cores[c].head, from = d->st[c].tail, n = d->h.records;
		if (head - from > n)
			from = head - n;
		uint64_t ring = d->h.rings + c * d->ring_bytes;
		unsigned char *buf = d->rings + c * d->ring_bytes;
		while (!r && from < head) {	/* one or two slices */
			uint64_t slot = from & (n - 1), k = head - from < n - slot ? head - from : n - slot;
			r = read_mem(d, t, ring + slot * d->h.record_size, buf + slot * d->h.record_size,
				     k * d->h.record_size);
			from += k;
		}
	}
	int rr = t->resume(t);
	d->now = prof_now();
	d->stopped += d->now - ts;
	if (r || rr)
		return rr > 0 ? 1 : -1;
	for (unsigned c = 0; c < d->h.ncpus; c++)
		if (ig_consume(&d->st[c], c, d->rings + c * d->ring_bytes, d->h.records,
			       d->cores[c].head, d->cores[c].head, emit, d))
			return -1;
	return 0;
}

/* The QMP way, without stopping: the rings, then the heads; the heads
 * read before the rings say what was complete, the heads after what may
 * have been overwritten meanwhile. */
static int
drain_qmp(struct drain *d)
{
	struct target *t = d->qmp;

	if (read_mem(d, t, d->h.rings, d->rings, d->ring_bytes * d->h.ncpus) ||
	    read_mem(d, t, d->h.cores, d->cores, d->h.ncpus * sizeof *d->cores))
		return t->err[0] ? -1 : 1;
	d->now = prof_now();
	for (unsigned c = 0; c < d->h.ncpus; c++)
		if (ig_consume(&d->st[c], c, d->rings + c * d->ring_bytes, d->h.records,
			       d->prev[c].head, d->cores[c].head, emit, d))
			return -1;
	memcpy(d->prev, d->cores, d->h.ncpus * sizeof *d->cores);
	return 0;
}

/* Sets toro_prof_hz through the gdbstub (the VM stopped meanwhile). */
static int
set_rate(struct drain *d, uint32_t hz, int stopped)
{
	struct target *t = d->gdb;
	int r = stopped ? 0 : t->stop(t);

	if (!r)
		r = t->write(t, d->hz_addr, &hz, sizeof hz) ? -1 : 0;
	return r;
}

/* At most this many NMIs after the first, one a drain at most. */
#define NUDGES_MAX	50

/*
 * Sends every vCPU an NMI again while some core has not picked up the
 * rate (no rings yet, or a core whose hz is not ours): a core that was
 * in kernel code when the first one came (booting, say) ignored it, and
 * a core busy in application code takes no interrupt of its own.
 * Through QMP while the VM runs; through the gdbstub, which stops it.
 */
static int
nudge_stragglers(struct drain *d, uint32_t hz, unsigned *nudges)
{
	bool behind = !d->rings;

	for (unsigned c = 0; !behind && c < d->h.ncpus; c++)
		behind = d->cores[c].hz != hz;
	if (!behind || *nudges >= NUDGES_MAX)
		return 0;
	(*nudges)++;
	if (d->qmp)
		return d->qmp->nmi(d->qmp) < 0 ? -1 : 0;
	int r = d->gdb->stop(d->gdb);
	if (!r)
		r = d->gdb->nmi(d->gdb) < 0 ? -1 : 0;
	int rr = d->gdb->resume(d->gdb);
	return r ? r : rr;
}

int
inguest_run(const struct record_opts *o)
{
	struct image im;
	char err[512];
	int status = 1, r;
	struct drain *d = calloc(1, sizeof *d);

	if (!d || image_open(&im, o->image, err, sizeof err)) {
		fprintf(stderr, "toro-prof: %s\n", d ? err : "out of memory");
		free(d);
		return 1;
	}
	d->o = o;
	d->im = &im;
	if (image_symbol(&im, "toro_prof_hz", &d->hz_addr) ||
	    image_symbol(&im, "toro_prof", &d->prof_addr)) {
		fprintf(stderr, "toro-prof: %s has no in-kernel sampler (toro_prof_hz): "
			"it was linked by a Toro without one; use --gdb or --qmp alone\n", im.path);
		goto out;
	}
	if (!o->gdb) {
		fprintf(stderr, "toro-prof: --in-guest needs --gdb HOST:PORT to set the rate\n");
		goto out;
	}
	d->gdb = rsp_connect(o->gdb, o->wait, err, sizeof err);
	if (d->gdb && o->qmp)
		d->qmp = qmp_connect(o->qmp, o->wait, err, sizeof err);
	if (!d->gdb || (o->qmp && !d->qmp)) {
		fprintf(stderr, "toro-prof: %s\n", err);
		goto out;
	}
	if (record_check_image(d->gdb, &im, err, sizeof err)) {
		fprintf(stderr, "toro-prof: %s\n", err);
		goto out;
	}
	uint32_t hz = o->rate > PROF_MAX_HZ ? PROF_MAX_HZ : (uint32_t)(o->rate + 0.5);
	unsigned nudges = 0;
	if (set_rate(d, hz ? hz : 1, 1)) {	/* stopped since we connected */
		fprintf(stderr, "toro-prof: cannot write toro_prof_hz: %s\n", d->gdb->err);
		goto out;
	}
	/* Busy cores take no interrupt of their own: an NMI makes every core
	 * arm its timer now (lib/kernel/prof.c prof_nmi).  Without it they
	 * start at their next scheduling point; say so and go on. */
	if (d->gdb->nmi(d->gdb))
		fprintf(stderr, "toro-prof: warning: cannot send an NMI (%s); busy cores "
			"start sampling at their next scheduling point\n", d->gdb->err);
	r = find_rings(d, d->gdb, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "toro-prof: %s\n", err);
		goto out;
	}
	d->f = fopen(o->output, "w");
	if (!d->f) {
		fprintf(stderr, "toro-prof: %s: %m\n", o->output);
		goto out;
	}
	struct recording rec = {.image = im.path, .image_id = im.id, .ncpus = d->gdb->ncpus,
				.rate = o->rate};
	snprintf(rec.method, sizeof rec.method, "in-guest");
	rec_write_header(d->f, &rec);
	prof_catch_signals();
	double period = o->drain > 0 ? o->drain : 0.1;
	d->t0 = prof_now();
	double next = d->t0, end = d->t0 + o->duration;
	r = d->gdb->resume(d->gdb);
	while (!r && !prof_interrupted) {
		next += period;
		if (next > end)
			next = end;
		prof_sleep_until(next);
		if (prof_interrupted)
			break;
		if (!d->rings) {	/* the kernel had not made them yet */
			struct target *t = d->qmp ? d->qmp : d->gdb;
			if (!d->qmp && (r = t->stop(t)))
				break;
			int f = find_rings(d, t, err, sizeof err);
			if (!d->qmp)
				r = t->resume(t);
			if (f < 0) {
				fprintf(stderr, "toro-prof: %s\n", err);
				r = -1;
			}
		} else {
			r = d->qmp ? drain_qmp(d) : drain_gdb(d);
			d->drains++;
			if (!r)
				d->t_last = d->now;
		}
		if (!r)
			r = nudge_stragglers(d, hz ? hz : 1, &nudges);
		if (prof_now() >= end)
			break;
	}
	rec.duration = prof_now() - d->t0;
	rec.ended_by_guest = r == 1;
	if (r < 0)
		fprintf(stderr, "toro-prof: %s\n", d->qmp && d->qmp->err[0] ? d->qmp->err :
			d->gdb->err[0] ? d->gdb->err : "lost the target");
	if (r != 1 && set_rate(d, 0, 0) == 0)
		d->gdb->resume(d->gdb);	/* sampling off again */
	unsigned ncores = d->h.ncpus ? d->h.ncpus : (unsigned)d->gdb->ncpus;
	size_t lost = 0;
	for (unsigned c = 0; c < ncores; c++) {
		rec.n += d->st[c].got;
		lost += d->st[c].lost;
	}
	/* The rate over the time drained: what the guest sampled after the
	 * last drain went with it. */
	double span = d->t_last - d->t_first;
	rec.achieved = span > 0 ? rec.n / span / ncores : 0;
	rec.stopped = d->stopped;
	rec.lost = lost;
	rec_write_trailer(d->f, &rec);
	if (!o->quiet) {
		if (rec.ended_by_guest)
			fprintf(stderr, "toro-prof: the guest exited after %.2f s; recording ended\n",
				rec.duration);
		fprintf(stderr, "toro-prof: in-guest, %zu samples from %u vCPU%s in %.2f s "
			"(%g/s requested):", rec.n, ncores, ncores == 1 ? "" : "s", rec.duration, o->rate);
		for (unsigned c = 0; c < ncores; c++)
			fprintf(stderr, " cpu%u %.1f/s", c, span > 0 ? d->st[c].got / span : 0);
		fprintf(stderr, "; %zu lost to ring overflow; %lu drains by %s, %lu reads; "
			"guest stopped %.3f s (%.1f%%); wrote %s\n", lost, d->drains,
			d->qmp ? "QMP pmemsave" : "the gdbstub", d->reads, d->stopped,
			rec.duration > 0 ? 100 * d->stopped / rec.duration : 0, o->output);
	}
	status = r < 0 || ferror(d->f) ? 1 : 0;
out:
	if (d->f && fclose(d->f))
		status = 1;
	if (d->qmp)
		d->qmp->close(d->qmp);
	if (d->gdb)
		d->gdb->close(d->gdb);
	image_close(&im);
	free(d->rings);
	free(d->cores);
	free(d->prev);
	free(d);
	return status;
}
