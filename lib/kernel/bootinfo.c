/*
 * Normalises multiboot1, multiboot2 and PVH boot data into struct boot_info.
 * Every read goes through the physical window with a bounds check, so a
 * corrupt or hostile structure yields an error, not a wild pointer.  Pure
 * logic: the unit tests feed it recorded structures.  It does not act on
 * what it finds (no allocation, no mapping).
 */
#include "lib/kernel/bootinfo.h"

#include <errno.h>
#include <string.h>

#include "lib/kernel/physwin.h"

#include "lib/kernel/kstring.h"

#define MB1_LOADER_MAGIC	0x2BADB002
#define MB2_LOADER_MAGIC	0x36D76289
#define PVH_START_MAGIC		0x336EC578

/* Copies a NUL-terminated string of at most max bytes out of the window. */
static int
copy_string(const struct phys_window *w, uint64_t addr, char *dst, size_t max,
	    bool *truncated)
{
	size_t i;

	for (i = 0; i + 1 < max; i++) {
		const uint8_t *p = phys_ptr(w, addr + i, 1);
		if (!p)
			return -EFAULT;
		if (!*p)
			break;
		dst[i] = (char)*p;
	}
	dst[i] = '\0';
	if (truncated) {
		const uint8_t *p = phys_ptr(w, addr + i, 1);
		*truncated = i + 1 == max && p && *p;
	}
	return 0;
}

static void
add_mem(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	if (!len)
		return;
	if (bi->nmem == BOOT_MAX_MEM) {
		bi->dropped_mem++;
		return;
	}
	/* Types 1..5 mean the same in e820, multiboot and PVH. */
	if (type < BOOT_MEM_RAM || type > BOOT_MEM_BAD)
		type = BOOT_MEM_RESERVED;
	bi->mem[bi->nmem++] = (struct boot_mem_region){ base, len, type };
}

static void
add_module(struct boot_info *bi, const struct phys_window *w, uint64_t base,
	   uint64_t len, uint64_t name)
{
	if (bi->nmod == BOOT_MAX_MODULES) {
		bi->dropped_mod++;
		return;
	}
	struct boot_module *m = &bi->mod[bi->nmod++];
	m->base = base;
	m->len = len;
	m->name[0] = '\0';
	if (name)
		copy_string(w, name, m->name, sizeof(m->name), NULL);
}

static int
parse_multiboot1(struct boot_info *bi, uint64_t data,
		 const struct phys_window *w, const char **why)
{
	const uint8_t *mbi = phys_ptr(w, data, 88);

	if (!mbi) {
		*why = "multiboot1 information outside memory";
		return -EFAULT;
	}
	uint32_t flags = get32(mbi);
	bi->data_base = data;
	bi->data_len = 88;
	bi->cmdline_has_image_path = true;
	if (flags & (1 << 2)) {
		if (copy_string(w, get32(mbi + 16), bi->cmdline,
				sizeof(bi->cmdline), &bi->cmdline_truncated)) {
			*why = "multiboot1 command line outside memory";
			return -EFAULT;
		}
	}
	if (flags & (1 << 9))
		copy_string(w, get32(mbi + 64), bi->loader, sizeof(bi->loader), NULL);
	if (flags & (1 << 3)) {
		uint32_t count = get32(mbi + 20), addr = get32(mbi + 24);
		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *m = phys_ptr(w, (uint64_t)addr + 16 * i, 16);
			if (!m) {
				*why = "multiboot1 module list outside memory";
				return -EFAULT;
			}
			uint32_t start = get32(m), end = get32(m + 4);
			if (end < start) {
				*why = "multiboot1 module ends before it starts";
				return -EINVAL;
			}
			add_module(bi, w, start, end - start, get32(m + 8));
		}
	}
	if (flags & (1 << 6)) {
		uint64_t p = get32(mbi + 48), end = p + get32(mbi + 44);
		while (p + 4 <= end) {
			const uint8_t *e = phys_ptr(w, p, 24);
			uint32_t size = e ? get32(e) : 0;
			if (!e || size < 20) {
				*why = "multiboot1 memory map is malformed";
				return -EINVAL;
			}
			add_mem(bi, get64(e + 4), get64(e + 12), get32(e + 20));
			p += (uint64_t)size + 4;
		}
	} else if (flags & (1 << 0)) {
		add_mem(bi, 0, (uint64_t)get32(mbi + 4) << 10, BOOT_MEM_RAM);
		add_mem(bi, 1 << 20, (uint64_t)get32(mbi + 8) << 10, BOOT_MEM_RAM);
	}
	return 0;
}

static int
parse_multiboot2(struct boot_info *bi, uint64_t data,
		 const struct phys_window *w, const char **why)
{
	const uint8_t *hdr = phys_ptr(w, data, 8);

	if (!hdr || (data & 7)) {
		*why = "multiboot2 information outside memory or misaligned";
		return -EFAULT;
	}
	uint32_t total = get32(hdr);
	if (total < 16 || !phys_ptr(w, data, total)) {
		*why = "multiboot2 information has a bad total size";
		return -EINVAL;
	}
	bi->data_base = data;
	bi->data_len = total;
	bi->cmdline_has_image_path = false;
	uint64_t p = data + 8, end = data + total;
	uint32_t mem_lower = 0, mem_upper = 0;	/* basic meminfo, KiB */
	while (p + 8 <= end) {
		const uint8_t *t = phys_ptr(w, p, 8);
		uint32_t type = get32(t), size = get32(t + 4);
		if (size < 8 || p + size > end) {
			*why = "multiboot2 tag runs past the information";
			return -EINVAL;
		}
		if (type == 0)
			break;
		switch (type) {
		case 1:	/* command line */
			copy_string(w, p + 8, bi->cmdline,
				    size - 8 + 1 < sizeof(bi->cmdline) ? size - 8 + 1
								    : sizeof(bi->cmdline),
				    &bi->cmdline_truncated);
			break;
		case 2:	/* boot loader name */
			copy_string(w, p + 8, bi->loader,
				    size - 8 + 1 < sizeof(bi->loader) ? size - 8 + 1
								   : sizeof(bi->loader),
				    NULL);
			break;
		case 3:	/* module */
			if (size < 16 || get32(t + 12) < get32(t + 8)) {
				*why = "multiboot2 module tag is malformed";
				return -EINVAL;
			}
			add_module(bi, w, get32(t + 8), get32(t + 12) - get32(t + 8),
				   size > 16 ? p + 16 : 0);
			break;
		case 6: {	/* memory map */
			if (size < 16) {
				*why = "multiboot2 memory map tag is malformed";
				return -EINVAL;
			}
			uint32_t esize = get32(t + 8);
			if (esize < 24) {
				*why = "multiboot2 memory map entry size too small";
				return -EINVAL;
			}
			for (uint64_t e = p + 16; e + esize <= p + size; e += esize) {
				const uint8_t *ent = phys_ptr(w, e, 24);
				add_mem(bi, get64(ent), get64(ent + 8), get32(ent + 16));
			}
			break;
		}
		case 4:	/* basic memory information, used without a map */
			if (size >= 16) {
				mem_lower = get32(t + 8);
				mem_upper = get32(t + 12);
			}
			break;
		case 14:	/* ACPI 1.0 RSDP copy: keep the newest one */
			if (!bi->rsdp)
				bi->rsdp = p + 8;
			break;
		case 15:
			bi->rsdp = p + 8;
			break;
		}
		p += (size + 7) & ~7u;
	}
	if (!bi->nmem) {
		add_mem(bi, 0, (uint64_t)mem_lower << 10, BOOT_MEM_RAM);
		add_mem(bi, 1 << 20, (uint64_t)mem_upper << 10, BOOT_MEM_RAM);
	}
	return 0;
}

static int
parse_pvh(struct boot_info *bi, uint64_t data, const struct phys_window *w,
	  const char **why)
{
	const uint8_t *si = phys_ptr(w, data, 48);

	if (!si || get32(si) != PVH_START_MAGIC) {
		*why = "PVH start_info missing or bad magic";
		return -EINVAL;
	}
	uint32_t version = get32(si + 4);
	bi->data_base = data;
	bi->data_len = version >= 1 ? 56 : 48;
	bi->cmdline_has_image_path = false;
	uint64_t cmdline = get64(si + 24);
	if (cmdline && copy_string(w, cmdline, bi->cmdline, sizeof(bi->cmdline),
				   &bi->cmdline_truncated)) {
		*why = "PVH command line outside memory";
		return -EFAULT;
	}
	bi->rsdp = get64(si + 32);
	uint32_t nmod = get32(si + 12);
	uint64_t modlist = get64(si + 16);
	for (uint32_t i = 0; i < nmod; i++) {
		const uint8_t *m = phys_ptr(w, modlist + 32 * i, 32);
		if (!m) {
			*why = "PVH module list outside memory";
			return -EFAULT;
		}
		add_module(bi, w, get64(m), get64(m + 8), get64(m + 16));
	}
	if (version < 1 || !phys_ptr(w, data, 56)) {
		*why = "PVH start_info has no memory map (version 0)";
		return -EINVAL;
	}
	uint64_t map = get64(si + 40);
	uint32_t entries = get32(si + 48);
	for (uint32_t i = 0; i < entries; i++) {
		const uint8_t *e = phys_ptr(w, map + 24 * i, 24);
		if (!e) {
			*why = "PVH memory map outside memory";
			return -EFAULT;
		}
		add_mem(bi, get64(e), get64(e + 8), get32(e + 16));
	}
	return 0;
}

int
bootinfo_parse(struct boot_info *bi, int protocol, uint64_t data,
	       const struct phys_window *w, const char **why)
{
	int err;

	memset(bi, 0, sizeof(*bi));
	bi->protocol = protocol;
	*why = NULL;
	switch (protocol) {
	case BOOT_PROTO_MULTIBOOT1:
		err = parse_multiboot1(bi, data, w, why);
		break;
	case BOOT_PROTO_MULTIBOOT2:
		err = parse_multiboot2(bi, data, w, why);
		break;
	case BOOT_PROTO_PVH:
		err = parse_pvh(bi, data, w, why);
		break;
	default:
		*why = "entered without a boot loader magic value";
		return -EINVAL;
	}
	if (!err && !bootinfo_ram_total(bi)) {
		*why = "the boot loader reported no usable RAM";
		err = -EINVAL;
	}
	return err;
}

const char *
bootinfo_protocol_name(int protocol)
{
	switch (protocol) {
	case BOOT_PROTO_MULTIBOOT1: return "multiboot1";
	case BOOT_PROTO_MULTIBOOT2: return "multiboot2";
	case BOOT_PROTO_PVH: return "pvh";
	}
	return "unknown";
}

uint64_t
bootinfo_ram_total(const struct boot_info *bi)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < bi->nmem; i++)
		if (bi->mem[i].type == BOOT_MEM_RAM)
			total += bi->mem[i].len;
	return total;
}
