/* stacks.c: a recording symbolised once for every report -- each sample
 * becomes its vCPU, whether the vCPU was idle, and its logical frames
 * (inlined functions expanded) as small integers naming interned strings.
 * The reports (report.c, flame.c) only count; they never look up
 * addresses.  It does not decide how to print anything. */
#include <stdlib.h>
#include <string.h>

#include "prof.h"

#define MAX_LOGICAL 512

struct name_index {
	int *slot;	/* id + 1, 0 empty */
	size_t cap;
};

static size_t
str_hash(const char *s)
{
	size_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static int
index_grow(struct stacks *st)
{
	struct name_index *ix = st->index;
	size_t cap = ix->cap ? 2 * ix->cap : 1024;
	int *slot = calloc(cap, sizeof *slot);

	if (!slot)
		return -1;
	for (size_t i = 0; i < st->nnames; i++) {
		size_t h = str_hash(st->names[i]);
		while (slot[h & (cap - 1)])
			h++;
		slot[h & (cap - 1)] = i + 1;
	}
	free(ix->slot);
	ix->slot = slot;
	ix->cap = cap;
	return 0;
}

int
stacks_find(const struct stacks *st, const char *name)
{
	const struct name_index *ix = st->index;

	if (!ix || !ix->cap)
		return -1;
	for (size_t h = str_hash(name);; h++) {
		int id = ix->slot[h & (ix->cap - 1)];
		if (!id)
			return -1;
		if (!strcmp(st->names[id - 1], name))
			return id - 1;
	}
}

static int
intern(struct stacks *st, const char *name)
{
	int id = stacks_find(st, name);

	if (id >= 0)
		return id;
	struct name_index *ix = st->index;
	if (2 * (st->nnames + 1) > ix->cap && index_grow(st))
		return -1;
	if (st->nnames == st->capnames) {
		st->capnames = st->capnames ? 2 * st->capnames : 1024;
		void *p = realloc(st->names, st->capnames * sizeof *st->names);
		if (!p)
			return -1;
		st->names = p;
	}
	st->names[st->nnames] = strdup(name);
	size_t h = str_hash(name);
	while (ix->slot[h & (ix->cap - 1)])
		h++;
	ix->slot[h & (ix->cap - 1)] = st->nnames + 1;
	return st->nnames++;
}

static const char *
base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int
stacks_build(struct stacks *st, const struct recording *r, struct symbols *sym,
	     const struct image *im, int lines)
{
	int ids[MAX_LOGICAL];
	char name[1024];

	memset(st, 0, sizeof *st);
	st->index = calloc(1, sizeof(struct name_index));
	st->st = calloc(r->n ? r->n : 1, sizeof *st->st);
	if (!st->index || !st->st || index_grow(st))
		return -1;
	st->ncpus = r->ncpus;
	for (size_t i = 0; i < r->n; i++) {
		const struct sample *s = &r->s[i];
		int n = 0;
		for (int k = 0; k < s->depth && n < MAX_LOGICAL; k++) {
			const struct frame *f;
			int nf = sym_lookup(sym, s->pcs[k], k > 0, &f);
			for (int j = 0; j < nf && n < MAX_LOGICAL; j++) {
				if (lines && f[j].file)
					snprintf(name, sizeof name, "%s (%s:%d)", f[j].func, base(f[j].file), f[j].line);
				else
					snprintf(name, sizeof name, "%s", f[j].func);
				if ((ids[n] = intern(st, name)) < 0)
					return -1;
				n++;
			}
		}
		struct sstack *o = &st->st[st->n++];
		o->cpu = s->cpu;
		o->idle = im ? walk_is_halt(im, s->pcs[0]) : 0;
		o->depth = n;
		o->ids = malloc((n ? n : 1) * sizeof *o->ids);
		if (!o->ids)
			return -1;
		memcpy(o->ids, ids, n * sizeof *ids);
	}
	return 0;
}

void
stacks_free(struct stacks *st)
{
	struct name_index *ix = st->index;

	for (size_t i = 0; i < st->nnames; i++)
		free(st->names[i]);
	free(st->names);
	for (size_t i = 0; i < st->n; i++)
		free(st->st[i].ids);
	free(st->st);
	if (ix)
		free(ix->slot);
	free(ix);
	memset(st, 0, sizeof *st);
}
