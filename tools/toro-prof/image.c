/* image.c: the Toro image file as the recorder sees it -- its function
 * symbols (for frame-pointer heuristics and idle detection), the bytes of
 * its executable segments (so that prologues and `hlt` are recognised
 * without reading guest memory) and a hash that names this exact build
 * (stored in recordings, checked again by the reports).  It is not the
 * symboliser: names, inlined frames and lines for reports come from
 * symbols.c through libdw. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prof.h"

static int
func_cmp(const void *a, const void *b)
{
	const struct image_func *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->size < y->size) - (x->size > y->size);	/* larger first */
}

static int
load_symbols(struct image *im, Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    sym.st_value == 0)
				continue;
			if (im->nfuncs == cap) {
				cap = cap ? 2 * cap : 1024;
				void *p = realloc(im->funcs, cap * sizeof *im->funcs);
				if (!p)
					return -1;
				im->funcs = p;
			}
			im->funcs[im->nfuncs++] = (struct image_func){
				sym.st_value, sym.st_size,
				elf_strptr(elf, sh.sh_link, sym.st_name)};
		}
	}
	qsort(im->funcs, im->nfuncs, sizeof *im->funcs, func_cmp);
	return 0;
}

static int
load_segments(struct image *im, Elf *elf)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -1;
	im->segs = calloc(n ? n : 1, sizeof *im->segs);
	if (!im->segs)
		return -1;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset + ph.p_filesz > im->mapsize)
			return -1;
		struct image_seg *s = &im->segs[im->nsegs++];
		s->vaddr = ph.p_vaddr;
		s->filesz = ph.p_filesz;
		s->exec = !!(ph.p_flags & PF_X);
		s->data = im->map + ph.p_offset;
		if (!s->exec)
			continue;
		for (uint64_t k = 0; k < s->filesz; k++)
			h = (h ^ s->data[k]) * 0x100000001b3ULL;
	}
	im->id = h;
	return 0;
}

int
image_open(struct image *im, const char *path, char *err, size_t errlen)
{
	struct stat st;

	memset(im, 0, sizeof *im);
	im->fd = -1;
	elf_version(EV_CURRENT);
	im->fd = open(path, O_RDONLY);
	if (im->fd < 0 || fstat(im->fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	im->mapsize = st.st_size;
	im->map = mmap(NULL, im->mapsize ? im->mapsize : 1, PROT_READ, MAP_PRIVATE, im->fd, 0);
	if (im->map == MAP_FAILED) {
		im->map = NULL;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	Elf *elf = elf_memory((char *)im->map, im->mapsize);
	im->elf = elf;
	GElf_Ehdr eh;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    eh.e_machine != EM_X86_64) {
		snprintf(err, errlen, "%s: not an x86-64 ELF image", path);
		goto fail;
	}
	if (load_segments(im, elf)) {
		snprintf(err, errlen, "%s: bad program headers", path);
		goto fail;
	}
	if (load_symbols(im, elf) || im->nfuncs == 0) {
		snprintf(err, errlen,
			 "%s has no symbol table (stripped?): toro-prof needs the image as "
			 "the linker wrote it, before strip", path);
		goto fail;
	}
	im->path = strdup(path);
	return 0;
fail:
	image_close(im);
	return -1;
}

void
image_close(struct image *im)
{
	if (im->elf)
		elf_end(im->elf);
	if (im->map)
		munmap(im->map, im->mapsize ? im->mapsize : 1);
	if (im->fd >= 0)
		close(im->fd);
	free(im->funcs);
	free(im->segs);
	free(im->path);
	memset(im, 0, sizeof *im);
	im->fd = -1;
}

const struct image_func *
image_func_at(const struct image *im, uint64_t addr)
{
	size_t lo = 0, hi = im->nfuncs;

	while (lo < hi) {	/* first start > addr */
		size_t mid = (lo + hi) / 2;
		if (im->funcs[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Walk back over zero-sized or overlapping neighbours a little. */
	for (size_t k = lo; k > 0 && lo - k < 8; k--) {
		const struct image_func *f = &im->funcs[k - 1];
		if (addr >= f->start && (addr < f->start + f->size || (f->size == 0 && addr == f->start)))
			return f;
	}
	return NULL;
}

const struct image_func *
image_func_named(const struct image *im, const char *name)
{
	for (size_t i = 0; i < im->nfuncs; i++)
		if (im->funcs[i].name && !strcmp(im->funcs[i].name, name))
			return &im->funcs[i];
	return NULL;
}

int
image_code(const struct image *im, uint64_t addr, void *buf, size_t len)
{
	for (size_t i = 0; i < im->nsegs; i++) {
		const struct image_seg *s = &im->segs[i];
		if (s->exec && addr >= s->vaddr && addr - s->vaddr <= s->filesz &&
		    len <= s->filesz - (addr - s->vaddr)) {
			memcpy(buf, s->data + (addr - s->vaddr), len);
			return 0;
		}
	}
	return -1;
}

int
image_symbol(const struct image *im, const char *name, uint64_t *addr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(im->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; d && i < n; i++) {
			GElf_Sym sym;
			const char *s;
			if (gelf_getsym(d, i, &sym) && sym.st_value &&
			    (s = elf_strptr(im->elf, sh.sh_link, sym.st_name)) && !strcmp(s, name)) {
				*addr = sym.st_value;
				return 0;
			}
		}
	}
	return -1;
}

int
image_is_code(const struct image *im, uint64_t addr)
{
	unsigned char b;

	return image_code(im, addr, &b, 1) == 0;
}
