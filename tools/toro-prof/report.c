/* report.c: the text reports over symbolised stacks -- the flat profile
 * (self and inclusive shares per function or per source line, with a
 * column per vCPU and idle counted apart), and the callers or callees of
 * one function.  Shares are of the non-idle samples unless --idle is
 * given.  It does not symbolise or read recordings (stacks.c, recfile.c)
 * and does not draw (flame.c). */
#include <stdlib.h>
#include <string.h>

#include "prof.h"

static int
counted(const struct sstack *s, const struct report_opts *o)
{
	return o->include_idle || !s->idle;
}

static void
print_header(FILE *out, const struct recording *r, const struct stacks *st,
	     const struct report_opts *o, size_t *work)
{
	size_t all[PROF_MAX_CPUS] = {0}, idle[PROF_MAX_CPUS] = {0}, tot = 0, tidle = 0;

	for (size_t i = 0; i < st->n; i++) {
		all[st->st[i].cpu]++;
		idle[st->st[i].cpu] += st->st[i].idle;
		tidle += st->st[i].idle;
	}
	fprintf(out, "# image %s, method %s, %d vCPU%s, %.2f s, %g/s requested, %.1f/s achieved\n",
		r->image ? r->image : "?", r->method, r->ncpus, r->ncpus == 1 ? "" : "s",
		r->duration, r->rate, r->achieved);
	if (!strcmp(r->method, "in-guest"))
		fprintf(out, "# in-guest: achieved is samples/s per vCPU; %zu samples lost to ring overflow\n",
			r->lost);
	fprintf(out, "# guest stopped %.3f s (%.1f%% of the recording); ended by %s\n", r->stopped,
		r->duration > 0 ? 100 * r->stopped / r->duration : 0,
		r->ended_by_guest ? "the guest exiting" : "the duration or an interrupt");
	fprintf(out, "# samples: %zu (", st->n);
	for (int c = 0; c < st->ncpus; c++)
		fprintf(out, "%scpu%d %zu", c ? ", " : "", c, all[c]);
	fprintf(out, "); idle: %.1f%% (", st->n ? 100.0 * tidle / st->n : 0);
	for (int c = 0; c < st->ncpus; c++)
		fprintf(out, "%scpu%d %.1f%%", c ? ", " : "", c, all[c] ? 100.0 * idle[c] / all[c] : 0);
	fprintf(out, ")\n");
	for (int c = 0; c < st->ncpus; c++) {
		work[c] = o->include_idle ? all[c] : all[c] - idle[c];
		tot += work[c];
	}
	work[PROF_MAX_CPUS] = tot;
	fprintf(out, "# shares are of the %zu %ssamples; a cpuN column is self%% of that vCPU's\n",
		tot, o->include_idle ? "" : "non-idle ");
}

struct row {
	int id;
	size_t self, total;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->id - y->id;
}

static double
pct(size_t n, size_t of)
{
	return of ? 100.0 * n / of : 0;
}

static int
flat(FILE *out, const struct stacks *st, const struct report_opts *o, const size_t *work)
{
	size_t nn = st->nnames, ncpu = st->ncpus;
	struct row *rows = calloc(nn ? nn : 1, sizeof *rows);
	size_t *percpu = calloc((nn ? nn : 1) * (ncpu ? ncpu : 1), sizeof *percpu);
	size_t *seen = calloc(nn ? nn : 1, sizeof *seen);

	if (!rows || !percpu || !seen)
		return -1;
	for (size_t i = 0; i < nn; i++)
		rows[i].id = i;
	for (size_t i = 0; i < st->n; i++) {
		const struct sstack *s = &st->st[i];
		if (!counted(s, o) || s->depth == 0)
			continue;
		rows[s->ids[0]].self++;
		percpu[(size_t)s->ids[0] * ncpu + s->cpu]++;
		for (int k = 0; k < s->depth; k++)
			if (seen[s->ids[k]] != i + 1) {
				seen[s->ids[k]] = i + 1;
				rows[s->ids[k]].total++;
			}
	}
	qsort(rows, nn, sizeof *rows, row_cmp);
	fprintf(out, "\n  self%%  total%%");
	for (size_t c = 0; c < ncpu; c++)
		fprintf(out, "  cpu%-3zu", c);
	fprintf(out, "  %s\n", o->lines ? "function (file:line)" : "function");
	for (size_t i = 0; i < nn && (o->limit <= 0 || (int)i < o->limit); i++) {
		if (!rows[i].total)
			break;
		fprintf(out, "%7.2f %7.2f", pct(rows[i].self, work[PROF_MAX_CPUS]),
			pct(rows[i].total, work[PROF_MAX_CPUS]));
		for (size_t c = 0; c < ncpu; c++)
			fprintf(out, " %6.2f", pct(percpu[(size_t)rows[i].id * ncpu + c], work[c]));
		fprintf(out, "  %s\n", st->names[rows[i].id]);
	}
	free(rows);
	free(percpu);
	free(seen);
	return 0;
}

/* Does the interned name N stand for function FUNC (with or without the
 * " (file:line)" suffix --lines adds)? */
static int
is_func(const char *n, const char *func)
{
	size_t l = strlen(func);

	return !strncmp(n, func, l) && (n[l] == 0 || n[l] == ' ');
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct chain {
	const char *key;
	size_t n;
};

static int
chain_cmp(const void *a, const void *b)
{
	const struct chain *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->key, y->key);
}

/* Callers (CALLERS: the chain from FUNC out to the stack's root) or
 * callees (the frame just inside FUNC), counted over samples. */
static int
neighbours(FILE *out, const struct stacks *st, const struct report_opts *o, const size_t *work,
	   const char *func, int callers)
{
	char **keys = calloc(st->n ? st->n : 1, sizeof *keys);
	size_t nk = 0;

	if (!keys)
		return -1;
	for (size_t i = 0; i < st->n; i++) {
		const struct sstack *s = &st->st[i];
		int p = 0;
		if (!counted(s, o))
			continue;
		while (p < s->depth && !is_func(st->names[s->ids[p]], func))
			p++;
		if (p == s->depth)
			continue;
		size_t len = 1;
		int from = callers ? p : p > 0 ? p - 1 : -1, to = callers ? s->depth : from + 1;
		for (int k = from; k >= 0 && k < to; k++)
			len += strlen(st->names[s->ids[k]]) + 4;
		char *key = malloc(len + 16);
		if (!key)
			return -1;
		key[0] = 0;
		if (from < 0)
			strcpy(key, "(self)");
		for (int k = from; k >= 0 && k < to; k++) {
			if (k > from)
				strcat(key, " <- ");
			strcat(key, st->names[s->ids[k]]);
		}
		keys[nk++] = key;
	}
	qsort(keys, nk, sizeof *keys, str_cmp);
	struct chain *ch = calloc(nk ? nk : 1, sizeof *ch);
	size_t nc = 0;
	for (size_t i = 0; i < nk; i++) {
		if (nc && !strcmp(ch[nc - 1].key, keys[i]))
			ch[nc - 1].n++;
		else
			ch[nc++] = (struct chain){keys[i], 1};
	}
	qsort(ch, nc, sizeof *ch, chain_cmp);
	fprintf(out, "\n%s of %s: %zu samples, %.2f%% of all\n", callers ? "callers" : "callees", func,
		nk, pct(nk, work[PROF_MAX_CPUS]));
	if (!nk)
		fprintf(out, "  (%s is in no sample)\n", func);
	for (size_t i = 0; i < nc && (o->limit <= 0 || (int)i < o->limit); i++)
		fprintf(out, "%7zu %6.2f%%  %s\n", ch[i].n, pct(ch[i].n, nk), ch[i].key);
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	free(keys);
	free(ch);
	return 0;
}

int
report_print(FILE *out, const struct recording *r, const struct stacks *st,
	     const struct report_opts *o)
{
	size_t work[PROF_MAX_CPUS + 1];

	print_header(out, r, st, o, work);
	if (o->callers)
		return neighbours(out, st, o, work, o->callers, 1);
	if (o->callees)
		return neighbours(out, st, o, work, o->callees, 0);
	return flat(out, st, o, work);
}
