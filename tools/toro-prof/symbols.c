/* symbols.c: addresses to names through elfutils (libdw's Dwfl): the
 * function, the chain of functions inlined at that address (from the DWARF
 * scopes), and the source file and line of each.  Without DWARF (musl's
 * libc.a, an image built without -g) it falls back to .symtab names.  Each
 * address is looked up once and cached.  It never runs addr2line.  It does
 * not walk stacks or decide what is idle: walk.c and stacks.c do. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#include "prof.h"

struct sym_entry {
	uint64_t key;	/* addr << 1 | callsite; 0 = empty */
	int nf;
	struct frame *f;
};

struct symbols {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct sym_entry *tab;
	size_t cap, n;
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct symbols *
sym_open(const char *path, char *err, size_t errlen)
{
	struct symbols *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->dwfl = dwfl_begin(&callbacks);
	if (s->dwfl)
		s->mod = dwfl_report_offline(s->dwfl, "image", path, -1);
	if (!s->mod) {
		snprintf(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
		sym_close(s);
		return NULL;
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	s->cap = 4096;
	s->tab = calloc(s->cap, sizeof *s->tab);
	if (!s->tab) {
		sym_close(s);
		return NULL;
	}
	return s;
}

void
sym_close(struct symbols *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->tab && i < s->cap; i++) {
		for (int k = 0; k < s->tab[i].nf; k++) {
			free((char *)s->tab[i].f[k].func);
			free((char *)s->tab[i].f[k].file);
		}
		free(s->tab[i].f);
	}
	free(s->tab);
	if (s->dwfl)
		dwfl_end(s->dwfl);
	free(s);
}

static const char *
die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = NULL;

	if (dwarf_attr_integrate(die, DW_AT_name, &a))
		n = dwarf_formstring(&a);
	if (!n && dwarf_attr_integrate(die, DW_AT_linkage_name, &a))
		n = dwarf_formstring(&a);
	return n;
}

static char *
dup_or_null(const char *p)
{
	return p ? strdup(p) : NULL;
}

static int
push(struct frame **f, int *n, const char *func, const char *file, int line, int inlined)
{
	void *p = realloc(*f, (*n + 1) * sizeof **f);

	if (!p)
		return -1;
	*f = p;
	(*f)[*n] = (struct frame){strdup(func), dup_or_null(file), line, inlined};
	(*n)++;
	return 0;
}

/* The file a DW_AT_call_file index names in the CU of DIE. */
static const char *
call_file(Dwarf_Die *cu, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Word idx;
	Dwarf_Files *files;
	size_t nfiles;

	if (!dwarf_attr(die, DW_AT_call_file, &a) || dwarf_formudata(&a, &idx) ||
	    dwarf_getsrcfiles(cu, &files, &nfiles) || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static int
resolve(struct symbols *s, uint64_t a, struct frame **out)
{
	struct frame *f = NULL;
	int n = 0, lineno = 0;
	const char *file = NULL;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(s->mod, a, &bias);
	Dwfl_Line *l = dwfl_module_getsrc(s->mod, a);

	if (l)
		file = dwfl_lineinfo(l, NULL, &lineno, NULL, NULL, NULL);
	Dwarf_Die *scopes = NULL;
	int ns = cu ? dwarf_getscopes(cu, a - bias, &scopes) : 0;
	for (int i = 0; i < ns; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		const char *name = die_name(&scopes[i]);
		if (push(&f, &n, name ? name : "??", file, lineno, tag == DW_TAG_inlined_subroutine))
			break;
		if (tag == DW_TAG_subprogram)
			break;
		Dwarf_Attribute at;
		Dwarf_Word w = 0;
		file = call_file(cu, &scopes[i]);
		lineno = dwarf_attr(&scopes[i], DW_AT_call_line, &at) && !dwarf_formudata(&at, &w) ? (int)w : 0;
	}
	free(scopes);
	if (n == 0 || (n > 0 && f[n - 1].inlined)) {
		/* No DWARF here, or the scopes end without the subprogram
		 * (libdw gives inlined instance, then the CU): .symtab. */
		GElf_Off off;
		GElf_Sym sym;
		const char *name = dwfl_module_addrinfo(s->mod, a, &off, &sym, NULL, NULL, NULL);
		char buf[32];
		if (!name) {
			snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)a);
			name = buf;
		}
		push(&f, &n, name, file, lineno, 0);	/* the call site, after inlines */
	}
	*out = f;
	return n;
}

static int
grow(struct symbols *s)
{
	size_t cap = s->cap * 2;
	struct sym_entry *t = calloc(cap, sizeof *t);

	if (!t)
		return -1;
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->tab[i].key)
			continue;
		size_t h = (s->tab[i].key * 0x9e3779b97f4a7c15ULL) >> 20;
		while (t[h & (cap - 1)].key)
			h++;
		t[h & (cap - 1)] = s->tab[i];
	}
	free(s->tab);
	s->tab = t;
	s->cap = cap;
	return 0;
}

int
sym_lookup(struct symbols *s, uint64_t addr, int callsite, const struct frame **out)
{
	uint64_t key = addr << 1 | (callsite ? 1 : 0) | (addr ? 0 : 2);
	size_t h = (key * 0x9e3779b97f4a7c15ULL) >> 20;

	for (;; h++) {
		struct sym_entry *e = &s->tab[h & (s->cap - 1)];
		if (e->key == key) {
			*out = e->f;
			return e->nf;
		}
		if (!e->key)
			break;
	}
	if (2 * (s->n + 1) > s->cap && grow(s) == 0)
		return sym_lookup(s, addr, callsite, out);
	struct sym_entry *e = &s->tab[h & (s->cap - 1)];
	e->key = key;
	e->nf = resolve(s, callsite && addr ? addr - 1 : addr, &e->f);
	s->n++;
	*out = e->f;
	return e->nf;
}
