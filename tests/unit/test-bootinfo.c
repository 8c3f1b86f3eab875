/*
 * Boot-information parsing (lib/kernel/bootinfo.c) over recorded
 * structures laid out in a buffer that stands for physical memory from
 * 0x8000: a multiboot1 information block as QEMU's loader builds it, a
 * multiboot2 tag list as GRUB 2.06 builds it, and a PVH hvm_start_info
 * (version 1) as QEMU builds it.  Every field of struct boot_info is
 * checked.  Then malformed data: bad magic or protocol, structures and
 * pointers outside the window, short memory-map entries, tags running past
 * total_size, bad total sizes, modules ending before they start, PVH
 * version 0, no RAM, too many memory regions and modules, over-long and
 * unterminated command lines.  Each parse runs over an exact-size heap
 * copy of the window, so AddressSanitizer sees any read past it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/kernel/bootinfo.h"
#include "tap.h"

#define WBASE	0x8000ULL
#define WLEN	0x10000ULL
#define WEND	(WBASE + WLEN)

static uint8_t img[WLEN];
static struct boot_info bi;
static const char *why;

static uint8_t *
at(uint64_t pa, size_t len)
{
	if (pa < WBASE || pa + len > WEND) {
		fprintf(stderr, "test bug: write at 0x%llx outside the image\n",
			(unsigned long long)pa);
		abort();
	}
	return img + (pa - WBASE);
}

static void w32(uint64_t pa, uint32_t v) { memcpy(at(pa, 4), &v, 4); }
static void w64(uint64_t pa, uint64_t v) { memcpy(at(pa, 8), &v, 8); }
static void wstr(uint64_t pa, const char *s) { memcpy(at(pa, strlen(s) + 1), s, strlen(s) + 1); }

/* Parses with a window of wlen bytes from WBASE, over a heap copy. */
static int
parse_len(int proto, uint64_t data, uint64_t wlen)
{
	uint8_t *copy = malloc(wlen ? wlen : 1);

	memcpy(copy, img, wlen);
	struct phys_window w = { WBASE, wlen, copy };
	memset(&bi, 0xA5, sizeof(bi));
	why = "stale";
	int r = bootinfo_parse(&bi, proto, data, &w, &why);
	free(copy);
	return r;
}

static int
parse(int proto, uint64_t data)
{
	return parse_len(proto, data, WLEN);
}

/* An error: the errno and a reason mentioning the expected words. */
static void
fails(int r, int err, const char *reason, const char *what)
{
	is_int(r, -err, "%s: -%s", what, err == EINVAL ? "EINVAL" : err == EFAULT ? "EFAULT" : "E?");
	ok(why && strcmp(why, "stale") && strstr(why, reason),
	   "%s: reason mentions '%s' (%s)", what, reason, why ? why : "NULL");
}

static void
succeeds(int r, const char *what)
{
	if (!is_int(r, 0, "%s: parses", what))
		diag("why: %s", why ? why : "NULL");
	ok(why == NULL, "%s: no reason on success", what);
}

/* Expected memory regions, checked in order. */
struct reg {
	uint64_t base, len;
	uint32_t type;
};

static void
mem_is(const struct reg *want, unsigned n, const char *what)
{
	if (!is_int(bi.nmem, n, "%s: %u memory regions", what, n))
		return;
	unsigned bad = 0;
	for (unsigned i = 0; i < n; i++) {
		if (bi.mem[i].base != want[i].base || bi.mem[i].len != want[i].len ||
		    bi.mem[i].type != want[i].type) {
			diag("region %u: 0x%llx+0x%llx type %u, want 0x%llx+0x%llx type %u", i,
			     (unsigned long long)bi.mem[i].base, (unsigned long long)bi.mem[i].len,
			     bi.mem[i].type, (unsigned long long)want[i].base,
			     (unsigned long long)want[i].len, want[i].type);
			bad++;
		}
	}
	is_int(bad, 0, "%s: every region's base, length and type", what);
}

/* QEMU's e820 map for -m 64 (q35/pc, SeaBIOS). */
static const struct reg qemu_e820[] = {
	{ 0x0, 0x9fc00, 1 },
	{ 0x9fc00, 0x400, 2 },
	{ 0xf0000, 0x10000, 2 },
	{ 0x100000, 0x3ee0000, 1 },
	{ 0x3fe0000, 0x20000, 2 },
	{ 0xfffc0000, 0x40000, 2 },
};
#define NE820 (sizeof(qemu_e820) / sizeof(qemu_e820[0]))

/* ------------------------------------------------------------ multiboot1 */

#define MB1_INFO	0x9000ULL
#define MB1_CMDLINE	0x9100ULL
#define MB1_LOADER	0x9200ULL
#define MB1_MODS	0x9300ULL
#define MB1_MODNAME0	0x9400ULL
#define MB1_MODNAME1	0x9440ULL
#define MB1_MMAP	0x9500ULL
#define MB1_FLAGS	0x24fu	/* mem, boot device, cmdline, mods, mmap, loader */

static const char mb1_cmdline[] = "/tmp/app.elf loglevel=3 -- hello \"big world\"";

static void
mb1_mmap(uint64_t addr, const struct reg *r, unsigned n, uint32_t size)
{
	for (unsigned i = 0; i < n; i++, addr += size + 4) {
		w32(addr, size);
		w64(addr + 4, r[i].base);
		w64(addr + 12, r[i].len);
		w32(addr + 20, r[i].type);
	}
}

/* The information block QEMU's multiboot loader (hw/i386/multiboot.c) builds. */
static void
build_mb1(void)
{
	memset(img, 0, sizeof(img));
	w32(MB1_INFO + 0, MB1_FLAGS);
	w32(MB1_INFO + 4, 639);			/* mem_lower, KiB */
	w32(MB1_INFO + 8, 64384);		/* mem_upper, KiB */
	w32(MB1_INFO + 12, 0x8000ffff);		/* boot_device */
	w32(MB1_INFO + 16, MB1_CMDLINE);
	w32(MB1_INFO + 20, 2);			/* mods_count */
	w32(MB1_INFO + 24, MB1_MODS);
	w32(MB1_INFO + 44, NE820 * 24);		/* mmap_length */
	w32(MB1_INFO + 48, MB1_MMAP);
	w32(MB1_INFO + 64, MB1_LOADER);
	wstr(MB1_CMDLINE, mb1_cmdline);
	wstr(MB1_LOADER, "qemu");
	w32(MB1_MODS + 0, 0x200000);
	w32(MB1_MODS + 4, 0x212345);
	w32(MB1_MODS + 8, MB1_MODNAME0);
	w32(MB1_MODS + 16, 0x213000);
	w32(MB1_MODS + 20, 0x213000);		/* empty module */
	w32(MB1_MODS + 24, MB1_MODNAME1);
	wstr(MB1_MODNAME0, "/tmp/initrd.img root=x");
	wstr(MB1_MODNAME1, "empty.bin");
	mb1_mmap(MB1_MMAP, qemu_e820, NE820, 20);
}

static void
multiboot1(void)
{
	build_mb1();
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1");
	is_int(bi.protocol, BOOT_PROTO_MULTIBOOT1, "mb1: protocol");
	is_str(bi.cmdline, mb1_cmdline, "mb1: command line");
	ok(bi.cmdline_has_image_path, "mb1: command line starts with the image path");
	ok(!bi.cmdline_truncated, "mb1: not truncated");
	mem_is(qemu_e820, NE820, "mb1");
	is_int(bootinfo_ram_total(&bi), 0x9fc00 + 0x3ee0000, "mb1: RAM total from the mmap");
	is_int(bi.nmod, 2, "mb1: two modules");
	is_int(bi.mod[0].base, 0x200000, "mb1: module 0 base");
	is_int(bi.mod[0].len, 0x12345, "mb1: module 0 length (end exclusive)");
	is_str(bi.mod[0].name, "/tmp/initrd.img root=x", "mb1: module 0 name");
	is_int(bi.mod[1].base, 0x213000, "mb1: module 1 base");
	is_int(bi.mod[1].len, 0, "mb1: module 1 is empty");
	is_str(bi.mod[1].name, "empty.bin", "mb1: module 1 name");
	is_int(bi.rsdp, 0, "mb1: no RSDP");
	is_str(bi.loader, "qemu", "mb1: loader name");
	is_int(bi.data_base, MB1_INFO, "mb1: data base");
	is_int(bi.data_len, 88, "mb1: data length");
	ok(bi.dropped_mem == 0 && bi.dropped_mod == 0, "mb1: nothing dropped");

	/* Extended mmap entries (size 24) are stepped over by their size. */
	build_mb1();
	mb1_mmap(MB1_MMAP, qemu_e820, NE820, 24);
	w32(MB1_INFO + 44, NE820 * 28);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 size-24 entries");
	mem_is(qemu_e820, NE820, "mb1 size-24 entries");

	/* Without a memory map: mem_lower/mem_upper. */
	build_mb1();
	w32(MB1_INFO, MB1_FLAGS & ~(1u << 6));
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 without mmap");
	static const struct reg basic[] = {
		{ 0, 639 * 1024, 1 }, { 0x100000, 64384ULL * 1024, 1 } };
	mem_is(basic, 2, "mb1 without mmap");

	/* Only what the flags announce is read. */
	build_mb1();
	w32(MB1_INFO, 1u << 6);
	w32(MB1_INFO + 16, 0xdead0000);		/* would fault if read */
	w32(MB1_INFO + 24, 0xdead0000);
	w32(MB1_INFO + 64, 0xdead0000);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 mmap only");
	ok(bi.cmdline[0] == 0 && bi.loader[0] == 0 && bi.nmod == 0,
	   "mb1 mmap only: no command line, loader or modules");
	is_int(bi.nmem, NE820, "mb1 mmap only: the map");

	/* Region types outside 1..5 become reserved; empty regions vanish. */
	build_mb1();
	static const struct reg odd[] = {
		{ 0x100000, 0x100000, 1 }, { 0x200000, 0, 1 }, { 0x300000, 0x1000, 7 },
		{ 0x400000, 0x1000, 0 }, { 0x500000, 0x1000, 3 }, { 0x600000, 0x1000, 4 },
		{ 0x700000, 0x1000, 5 }, { 0x800000, 0x1000, 0xffffffff } };
	mb1_mmap(MB1_MMAP, odd, 8, 20);
	w32(MB1_INFO + 44, 8 * 24);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 odd types");
	static const struct reg odd_want[] = {
		{ 0x100000, 0x100000, 1 }, { 0x300000, 0x1000, 2 },
		{ 0x400000, 0x1000, 2 }, { 0x500000, 0x1000, 3 }, { 0x600000, 0x1000, 4 },
		{ 0x700000, 0x1000, 5 }, { 0x800000, 0x1000, 2 } };
	mem_is(odd_want, 7, "mb1 odd types");
	is_int(bootinfo_ram_total(&bi), 0x100000, "mb1 odd types: only type 1 is RAM");

	/* More regions than BOOT_MAX_MEM. */
	build_mb1();
	struct reg many[BOOT_MAX_MEM + 6];
	for (unsigned i = 0; i < BOOT_MAX_MEM + 6; i++)
		many[i] = (struct reg){ 0x100000ULL * (i + 1), 0x1000, 1 };
	mb1_mmap(0xC000, many, BOOT_MAX_MEM + 6, 20);
	w32(MB1_INFO + 44, (BOOT_MAX_MEM + 6) * 24);
	w32(MB1_INFO + 48, 0xC000);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 70 regions");
	is_int(bi.nmem, BOOT_MAX_MEM, "mb1 70 regions: BOOT_MAX_MEM kept");
	is_int(bi.dropped_mem, 6, "mb1 70 regions: 6 counted as dropped");
	is_int(bi.mem[BOOT_MAX_MEM - 1].base, 0x100000ULL * BOOT_MAX_MEM, "mb1 70 regions: the first 64 kept");

	/* More modules than BOOT_MAX_MODULES. */
	build_mb1();
	w32(MB1_INFO + 20, BOOT_MAX_MODULES + 2);
	w32(MB1_INFO + 24, 0xC000);
	for (unsigned i = 0; i < BOOT_MAX_MODULES + 2; i++) {
		w32(0xC000 + 16 * i, 0x1000000 + 0x10000 * i);
		w32(0xC004 + 16 * i, 0x1000000 + 0x10000 * i + 0x100);
		w32(0xC008 + 16 * i, i == 3 ? 0 : MB1_MODNAME1);
	}
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 10 modules");
	is_int(bi.nmod, BOOT_MAX_MODULES, "mb1 10 modules: BOOT_MAX_MODULES kept");
	is_int(bi.dropped_mod, 2, "mb1 10 modules: 2 counted as dropped");
	is_str(bi.mod[3].name, "", "mb1: a module without a string has an empty name");
	is_int(bi.mod[7].base, 0x1070000, "mb1 10 modules: module 7 base");

	/* A module name longer than the field is cut, not overrun. */
	build_mb1();
	char longname[100];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	wstr(0xB000, longname);
	w32(MB1_MODS + 8, 0xB000);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 long module name");
	is_int(strlen(bi.mod[0].name), sizeof(bi.mod[0].name) - 1, "mb1: module name cut to 63");
	is_str(bi.mod[1].name, "empty.bin", "mb1: next module unaffected");

	/* Command line lengths around BOOT_CMDLINE_MAX. */
	static char big[6000];
	build_mb1();
	memset(big, 'c', BOOT_CMDLINE_MAX - 1);
	big[BOOT_CMDLINE_MAX - 1] = '\0';
	wstr(0xA000, big);
	w32(MB1_INFO + 16, 0xA000);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 4095-byte command line");
	is_int(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1, "mb1: 4095 bytes kept");
	ok(!bi.cmdline_truncated, "mb1: exactly BOOT_CMDLINE_MAX - 1 is not truncated");
	memset(big, 'c', 5000);
	big[5000] = '\0';
	wstr(0xA000, big);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 5000-byte command line");
	is_int(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1, "mb1: cut to BOOT_CMDLINE_MAX - 1");
	ok(bi.cmdline_truncated, "mb1: cmdline_truncated set");
}

static void
multiboot1_malformed(void)
{
	build_mb1();
	fails(parse(BOOT_PROTO_MULTIBOOT1, 0x7000), EFAULT, "outside", "mb1 info below the window");
	fails(parse(BOOT_PROTO_MULTIBOOT1, WEND - 40), EFAULT, "outside",
	      "mb1 info straddling the window end");
	fails(parse(BOOT_PROTO_MULTIBOOT1, UINT64_MAX - 10), EFAULT, "outside",
	      "mb1 info at 2^64 - 11");
	fails(parse_len(BOOT_PROTO_MULTIBOOT1, WBASE, 87), EFAULT, "outside",
	      "mb1 window of 87 bytes");

	build_mb1();
	w32(MB1_INFO + 16, 0x1000);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EFAULT, "command line",
	      "mb1 cmdline pointer outside");

	build_mb1();
	w32(MB1_INFO + 24, WEND - 8);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EFAULT, "module", "mb1 module list outside");

	build_mb1();
	w32(MB1_MODS + 20, 0x212fff);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "module", "mb1 module end < start");

	build_mb1();
	w32(MB1_MMAP + 24 * (NE820 - 1), 19);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "memory map",
	      "mb1 last mmap entry size 19 (< 20)");
	build_mb1();
	w32(MB1_MMAP + 24 * 2, 16);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "memory map",
	      "mb1 mmap entry size 16 (< 20)");
	build_mb1();
	w32(MB1_MMAP, 0);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "memory map", "mb1 mmap entry size 0");
	build_mb1();
	w32(MB1_INFO + 48, 0x100);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "memory map", "mb1 mmap outside");
	build_mb1();
	w32(MB1_INFO + 48, WEND - 48);
	w32(MB1_INFO + 44, 96);
	mb1_mmap(WEND - 48, qemu_e820 + 3, 2, 20);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "memory map",
	      "mb1 mmap length running past the window");
	build_mb1();
	w32(MB1_INFO + 44, 0xffffffff);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "memory map",
	      "mb1 mmap length 4 GiB");

	build_mb1();
	w32(MB1_INFO, 1u << 2);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "no usable RAM", "mb1 with no memory information");
	build_mb1();
	static const struct reg noram[] = { { 0, 0x100000, 2 }, { 0x100000, 0x1000000, 3 } };
	mb1_mmap(MB1_MMAP, noram, 2, 20);
	w32(MB1_INFO + 44, 48);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EINVAL, "no usable RAM", "mb1 map without RAM");

	/* The command line is the last thing in memory and has no NUL. */
	build_mb1();
	w32(MB1_INFO, (1u << 2) | (1u << 6));
	memcpy(at(WEND - 5, 5), "quiet", 5);
	w32(MB1_INFO + 16, WEND - 5);
	fails(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), EFAULT, "command line",
	      "mb1 unterminated cmdline at the window end");
	/* The same bytes with room for the NUL parse. */
	build_mb1();
	w32(MB1_INFO, (1u << 2) | (1u << 6));
	wstr(WEND - 6, "quiet");
	w32(MB1_INFO + 16, WEND - 6);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 cmdline ending at the window end");
	is_str(bi.cmdline, "quiet", "mb1 cmdline at the window end");

	/* An unterminated loader name or module name is not fatal. */
	build_mb1();
	memcpy(at(WEND - 4, 4), "qemu", 4);
	w32(MB1_INFO + 64, WEND - 4);
	w32(MB1_MODS + 8, WEND - 4);
	succeeds(parse(BOOT_PROTO_MULTIBOOT1, MB1_INFO), "mb1 unterminated loader and module names");
	ok(strlen(bi.loader) <= 4 && strlen(bi.mod[0].name) <= 4,
	   "mb1: names stay within what was readable");

	fails(parse(BOOT_PROTO_UNKNOWN, MB1_INFO), EINVAL, "magic", "unknown protocol 0");
	fails(parse(4, MB1_INFO), EINVAL, "magic", "unknown protocol 4");
	fails(parse(-1, MB1_INFO), EINVAL, "magic", "unknown protocol -1");
}

/* ------------------------------------------------------------ multiboot2 */

#define MB2_INFO	0xA000ULL

static uint64_t mb2_cur;

static uint64_t
tag(uint32_t type, const void *payload, uint32_t len)
{
	uint64_t t = mb2_cur;

	w32(t, type);
	w32(t + 4, 8 + len);
	if (len)
		memcpy(at(t + 8, len), payload, len);
	mb2_cur = (t + 8 + len + 7) & ~7ULL;
	return t;
}

static void
mb2_finish(uint64_t base)
{
	w32(base, (uint32_t)(mb2_cur - base));
	w32(base + 4, 0);
}

static uint64_t
mmap_tag(const struct reg *r, unsigned n, uint32_t esize)
{
	uint8_t buf[8 + 80 * 40];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &esize, 4);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = buf + 8 + i * esize;
		memcpy(e, &r[i].base, 8);
		memcpy(e + 8, &r[i].len, 8);
		memcpy(e + 16, &r[i].type, 4);
	}
	return tag(6, buf, 8 + n * esize);
}

static const char mb2_cmdline[] = "loglevel=2 HOME=/ -- arg \"two words\"";
static const struct reg grub_e820[] = {
	{ 0x0, 0x9fc00, 1 },
	{ 0x9fc00, 0x400, 2 },
	{ 0xf0000, 0x10000, 2 },
	{ 0x100000, 0x7ee0000, 1 },
	{ 0x7fe0000, 0x20000, 2 },
	{ 0xfeffc000, 0x4000, 2 },
	{ 0xfffc0000, 0x40000, 2 },
};
#define NGRUB (sizeof(grub_e820) / sizeof(grub_e820[0]))
static uint64_t mb2_tag_cmdline, mb2_tag_module, mb2_tag_mmap, mb2_tag_rsdp1, mb2_tag_rsdp2,
	mb2_tag_end;

/* Tags in the order GRUB 2.06 writes them (grub-core/loader/multiboot_mbi2.c). */
static void
build_mb2(void)
{
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	uint32_t load_base = 0x100000;
	tag(21, &load_base, 4);
	mb2_tag_cmdline = tag(1, mb2_cmdline, sizeof(mb2_cmdline));
	tag(2, "GRUB 2.06", 10);
	uint8_t mod[8 + 11];
	uint32_t ms = 0x300000, me = 0x310800;
	memcpy(mod, &ms, 4);
	memcpy(mod + 4, &me, 4);
	memcpy(mod + 8, "initrd.img", 11);
	mb2_tag_module = tag(3, mod, sizeof(mod));
	uint32_t meminfo[2] = { 639, 130048 };
	tag(4, meminfo, 8);
	uint32_t bootdev[3] = { 0x80, 0xffffffff, 0xffffffff };
	tag(5, bootdev, 12);
	mb2_tag_mmap = mmap_tag(grub_e820, NGRUB, 24);
	uint8_t rsdp1[20] = "RSD PTR ", rsdp2[36] = "RSD PTR ";
	rsdp2[15] = 2;
	mb2_tag_rsdp1 = tag(14, rsdp1, sizeof(rsdp1));
	mb2_tag_rsdp2 = tag(15, rsdp2, sizeof(rsdp2));
	mb2_tag_end = tag(0, NULL, 0);
	mb2_finish(MB2_INFO);
}

static void
multiboot2(void)
{
	build_mb2();
	uint64_t total = mb2_cur - MB2_INFO;
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2");
	is_int(bi.protocol, BOOT_PROTO_MULTIBOOT2, "mb2: protocol");
	is_str(bi.cmdline, mb2_cmdline, "mb2: command line");
	ok(!bi.cmdline_has_image_path, "mb2: no image path on the command line");
	ok(!bi.cmdline_truncated, "mb2: not truncated");
	is_str(bi.loader, "GRUB 2.06", "mb2: loader name");
	mem_is(grub_e820, NGRUB, "mb2");
	is_int(bootinfo_ram_total(&bi), 0x9fc00 + 0x7ee0000, "mb2: RAM total");
	is_int(bi.nmod, 1, "mb2: one module");
	is_int(bi.mod[0].base, 0x300000, "mb2: module base");
	is_int(bi.mod[0].len, 0x10800, "mb2: module length");
	is_str(bi.mod[0].name, "initrd.img", "mb2: module name");
	is_int(bi.rsdp, mb2_tag_rsdp2 + 8, "mb2: RSDP is the ACPI 2.0 copy in tag 15");
	is_int(bi.data_base, MB2_INFO, "mb2: data base");
	is_int(bi.data_len, total, "mb2: data length is total_size");
	ok(bi.dropped_mem == 0 && bi.dropped_mod == 0, "mb2: nothing dropped");

	/* Tag 15 before tag 14: the newer one is kept. */
	build_mb2();
	w32(mb2_tag_rsdp1, 15);
	w32(mb2_tag_rsdp2, 14);
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 RSDP tags swapped");
	is_int(bi.rsdp, mb2_tag_rsdp1 + 8, "mb2: tag 15 wins even when first");
	/* Only the ACPI 1.0 copy. */
	build_mb2();
	w32(mb2_tag_rsdp2, 0xffff);	/* unknown tag type: skipped */
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 ACPI 1.0 only");
	is_int(bi.rsdp, mb2_tag_rsdp1 + 8, "mb2: the ACPI 1.0 copy");

	/* A module with no string and one with an empty string. */
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	uint32_t m1[2] = { 0x400000, 0x401000 }, m2[3] = { 0x500000, 0x500000, 0 };
	tag(3, m1, 8);
	tag(3, m2, 9);
	mmap_tag(grub_e820, NGRUB, 24);
	tag(0, NULL, 0);
	mb2_finish(MB2_INFO);
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 unnamed modules");
	is_int(bi.nmod, 2, "mb2 unnamed modules: two");
	ok(bi.mod[0].name[0] == 0 && bi.mod[1].name[0] == 0, "mb2: empty names");
	is_int(bi.mod[0].len, 0x1000, "mb2: 16-byte module tag length");
	ok(bi.cmdline[0] == 0 && bi.loader[0] == 0 && bi.rsdp == 0,
	   "mb2: absent tags leave fields empty");

	/* Larger entries (a future entry version) are stepped by entry_size. */
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	mmap_tag(grub_e820, NGRUB, 32);
	tag(0, NULL, 0);
	mb2_finish(MB2_INFO);
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 32-byte mmap entries");
	mem_is(grub_e820, NGRUB, "mb2 32-byte mmap entries");

	/* No end tag: the tags simply fill total_size. */
	build_mb2();
	w32(MB2_INFO, (uint32_t)(mb2_tag_end - MB2_INFO));
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 without an end tag");
	is_int(bi.nmem, NGRUB, "mb2 without an end tag: map read");

	/* Tags after the end tag are not read. */
	build_mb2();
	mb2_cur = mb2_tag_end + 8;
	tag(1, "late", 5);
	mb2_finish(MB2_INFO);
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 tag after the end tag");
	is_str(bi.cmdline, mb2_cmdline, "mb2: parsing stops at the end tag");

	/* More regions than BOOT_MAX_MEM, over-long command line. */
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	struct reg many[BOOT_MAX_MEM + 3];
	for (unsigned i = 0; i < BOOT_MAX_MEM + 3; i++)
		many[i] = (struct reg){ 0x200000ULL * i, 0x200000, i % 2 ? 2 : 1 };
	mmap_tag(many, BOOT_MAX_MEM + 3, 24);
	static char big[5001];
	memset(big, 'x', 5000);
	tag(1, big, 5001);
	tag(0, NULL, 0);
	mb2_finish(MB2_INFO);
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 67 regions, 5000-byte cmdline");
	is_int(bi.nmem, BOOT_MAX_MEM, "mb2: BOOT_MAX_MEM regions kept");
	is_int(bi.dropped_mem, 3, "mb2: 3 dropped");
	is_int(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1, "mb2: command line cut");
	ok(bi.cmdline_truncated, "mb2: cmdline_truncated set");

	/* A command line that exactly fits is not truncated. */
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	mmap_tag(grub_e820, NGRUB, 24);
	memset(big, 'y', BOOT_CMDLINE_MAX - 1);
	big[BOOT_CMDLINE_MAX - 1] = '\0';
	tag(1, big, BOOT_CMDLINE_MAX);
	tag(0, NULL, 0);
	mb2_finish(MB2_INFO);
	succeeds(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), "mb2 4095-byte cmdline");
	is_int(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1, "mb2: 4095 bytes kept");
	ok(!bi.cmdline_truncated, "mb2: exactly BOOT_CMDLINE_MAX - 1 is not truncated");

	/* The info block may end exactly at the end of the window. */
	build_mb2();
	succeeds(parse_len(BOOT_PROTO_MULTIBOOT2, MB2_INFO, MB2_INFO + total - WBASE),
		 "mb2 ending at the window end");
	is_int(bi.nmem, NGRUB, "mb2 at the window end: map read");
}

/* Runs a parse in a child: true if it returned an error instead of crashing. */
static bool
survives(int proto, uint64_t data, uint64_t wlen)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int r = parse_len(proto, data, wlen);
		_exit(r < 0 && why ? 0 : 1);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	if (WIFSIGNALED(status))
		diag("child killed by signal %d", WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
multiboot2_malformed(void)
{
	build_mb2();
	uint64_t total = mb2_cur - MB2_INFO;
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO + 4), EFAULT, "misaligned", "mb2 misaligned info");
	fails(parse(BOOT_PROTO_MULTIBOOT2, 0x1000), EFAULT, "outside", "mb2 info outside");
	fails(parse(BOOT_PROTO_MULTIBOOT2, WEND - 4), EFAULT, "outside", "mb2 header straddling the end");
	fails(parse_len(BOOT_PROTO_MULTIBOOT2, MB2_INFO, MB2_INFO + total - 8 - WBASE), EINVAL,
	      "total size", "mb2 total_size past the window");

	build_mb2();
	w32(MB2_INFO, 8);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "total size", "mb2 total_size 8");
	w32(MB2_INFO, 0);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "total size", "mb2 total_size 0");
	w32(MB2_INFO, 0xfffffff8);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "total size", "mb2 total_size 4 GiB");
	w32(MB2_INFO, 16);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "runs past",
	      "mb2 total_size cutting the first tag");

	build_mb2();
	w32(mb2_tag_cmdline + 4, (uint32_t)(MB2_INFO + total - mb2_tag_cmdline + 1));
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "runs past", "mb2 tag one byte past total_size");
	w32(mb2_tag_cmdline + 4, 0xfffffff0);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "runs past", "mb2 tag size 4 GiB");
	w32(mb2_tag_cmdline + 4, 0);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "runs past", "mb2 tag size 0 (no endless loop)");
	w32(mb2_tag_cmdline + 4, 7);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "runs past", "mb2 tag size 7");
	build_mb2();
	w32(mb2_tag_end + 4, 16);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "runs past", "mb2 end tag past total_size");

	build_mb2();
	w32(mb2_tag_mmap + 8, 20);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "entry size", "mb2 mmap entry_size 20 (< 24)");
	w32(mb2_tag_mmap + 8, 0);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "entry size", "mb2 mmap entry_size 0");

	build_mb2();
	w32(mb2_tag_module + 12, 0x2fffff);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "module", "mb2 module end < start");
	build_mb2();
	w32(mb2_tag_module + 4, 12);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "module", "mb2 module tag of 12 bytes");

	/* An mmap tag too short for its own header, as the last bytes of memory. */
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	tag(6, NULL, 0);
	mb2_finish(MB2_INFO);
	ok(survives(BOOT_PROTO_MULTIBOOT2, MB2_INFO, MB2_INFO + 16 - WBASE),
	   "mb2 8-byte mmap tag at the window end: an error, not a crash");

	/* Without a memory map, the basic meminfo tag describes RAM. */
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	uint32_t meminfo[2] = { 639, 130048 };
	tag(4, meminfo, 8);
	tag(0, NULL, 0);
	mb2_finish(MB2_INFO);
	is_int(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), 0, "mb2 with basic meminfo only parses");
	is_int(bi.nmem, 2, "mb2 basic meminfo: two RAM regions");
	ok(bi.mem[0].base == 0 && bi.mem[0].len == 639 * 1024 &&
	   bi.mem[1].base == 0x100000 && bi.mem[1].len == 130048ULL * 1024 &&
	   bi.mem[0].type == BOOT_MEM_RAM && bi.mem[1].type == BOOT_MEM_RAM,
	   "mb2 basic meminfo: lower and upper memory");

	/* Neither a map nor basic meminfo: no RAM. */
	memset(img, 0, sizeof(img));
	mb2_cur = MB2_INFO + 8;
	tag(0, NULL, 0);
	mb2_finish(MB2_INFO);
	fails(parse(BOOT_PROTO_MULTIBOOT2, MB2_INFO), EINVAL, "no usable RAM", "mb2 without any memory information");
}

/* ------------------------------------------------------------ PVH */

#define PVH_INFO	0xC000ULL
#define PVH_MODS	0xC100ULL
#define PVH_CMDLINE	0xC200ULL
#define PVH_MODNAME	0xC280ULL
#define PVH_MMAP	0xC300ULL
#define PVH_RSDP	0xf5a40ULL	/* where SeaBIOS leaves it; not read */

static const char pvh_cmdline[] = "debug TERM=xterm -- -c 'x'";

static void
pvh_mmap(uint64_t addr, const struct reg *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		w64(addr + 24 * i, r[i].base);
		w64(addr + 24 * i + 8, r[i].len);
		w32(addr + 24 * i + 16, r[i].type);
		w32(addr + 24 * i + 20, 0);
	}
}

/* hvm_start_info as QEMU's PVH option ROM (pc-bios/optionrom/pvh_main.c) fills it. */
static void
build_pvh(void)
{
	memset(img, 0, sizeof(img));
	w32(PVH_INFO + 0, 0x336ec578);
	w32(PVH_INFO + 4, 1);			/* version */
	w32(PVH_INFO + 8, 0);			/* flags */
	w32(PVH_INFO + 12, 2);			/* nr_modules */
	w64(PVH_INFO + 16, PVH_MODS);
	w64(PVH_INFO + 24, PVH_CMDLINE);
	w64(PVH_INFO + 32, PVH_RSDP);
	w64(PVH_INFO + 40, PVH_MMAP);
	w32(PVH_INFO + 48, NE820);
	w64(PVH_MODS + 0, 0x7f00000);		/* initrd near the top of RAM */
	w64(PVH_MODS + 8, 0x54321);
	w64(PVH_MODS + 16, PVH_MODNAME);
	w64(PVH_MODS + 32, 0x7000000);
	w64(PVH_MODS + 40, 0x1000);
	w64(PVH_MODS + 48, 0);			/* no cmdline */
	wstr(PVH_CMDLINE, pvh_cmdline);
	wstr(PVH_MODNAME, "initrd");
	pvh_mmap(PVH_MMAP, qemu_e820, NE820);
}

static void
pvh(void)
{
	build_pvh();
	succeeds(parse(BOOT_PROTO_PVH, PVH_INFO), "pvh");
	is_int(bi.protocol, BOOT_PROTO_PVH, "pvh: protocol");
	is_str(bi.cmdline, pvh_cmdline, "pvh: command line");
	ok(!bi.cmdline_has_image_path, "pvh: no image path");
	ok(!bi.cmdline_truncated, "pvh: not truncated");
	mem_is(qemu_e820, NE820, "pvh");
	is_int(bi.nmod, 2, "pvh: two modules");
	is_int(bi.mod[0].base, 0x7f00000, "pvh: module 0 base");
	is_int(bi.mod[0].len, 0x54321, "pvh: module 0 size");
	is_str(bi.mod[0].name, "initrd", "pvh: module 0 name from its cmdline");
	is_int(bi.mod[1].base, 0x7000000, "pvh: module 1 base");
	is_int(bi.mod[1].len, 0x1000, "pvh: module 1 size");
	is_str(bi.mod[1].name, "", "pvh: module 1 without cmdline");
	is_int(bi.rsdp, PVH_RSDP, "pvh: rsdp_paddr");
	is_str(bi.loader, "", "pvh: no loader name");
	is_int(bi.data_base, PVH_INFO, "pvh: data base");
	is_int(bi.data_len, 56, "pvh: data length (version 1)");
	ok(bi.dropped_mem == 0 && bi.dropped_mod == 0, "pvh: nothing dropped");

	build_pvh();
	w64(PVH_INFO + 24, 0);
	w32(PVH_INFO + 12, 0);
	w64(PVH_INFO + 16, 0);
	succeeds(parse(BOOT_PROTO_PVH, PVH_INFO), "pvh without cmdline or modules");
	ok(bi.cmdline[0] == 0 && bi.nmod == 0, "pvh: empty command line, no modules");

	build_pvh();
	struct reg many[BOOT_MAX_MEM + 1];
	for (unsigned i = 0; i < BOOT_MAX_MEM + 1; i++)
		many[i] = (struct reg){ 0x100000ULL * i, 0x1000, 1 };
	pvh_mmap(0xD000, many, BOOT_MAX_MEM + 1);
	w64(PVH_INFO + 40, 0xD000);
	w32(PVH_INFO + 48, BOOT_MAX_MEM + 1);
	w32(PVH_INFO + 12, BOOT_MAX_MODULES + 1);
	w64(PVH_INFO + 16, 0xF000);
	for (unsigned i = 0; i < BOOT_MAX_MODULES + 1; i++)
		w64(0xF000 + 32 * i, 0x1000000 * (i + 1));
	succeeds(parse(BOOT_PROTO_PVH, PVH_INFO), "pvh 65 regions, 9 modules");
	is_int(bi.nmem, BOOT_MAX_MEM, "pvh: BOOT_MAX_MEM regions");
	is_int(bi.dropped_mem, 1, "pvh: one region dropped");
	is_int(bi.nmod, BOOT_MAX_MODULES, "pvh: BOOT_MAX_MODULES modules");
	is_int(bi.dropped_mod, 1, "pvh: one module dropped");

	build_pvh();
	static char big[4200];
	memset(big, 'p', 4100);
	big[4100] = '\0';
	wstr(0xD000, big);
	w64(PVH_INFO + 24, 0xD000);
	succeeds(parse(BOOT_PROTO_PVH, PVH_INFO), "pvh 4100-byte cmdline");
	is_int(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1, "pvh: command line cut");
	ok(bi.cmdline_truncated, "pvh: cmdline_truncated set");
}

static void
pvh_malformed(void)
{
	build_pvh();
	w32(PVH_INFO, 0x336ec579);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EINVAL, "magic", "pvh bad magic");
	build_pvh();
	fails(parse(BOOT_PROTO_PVH, PVH_INFO + 8), EINVAL, "magic", "pvh pointer into the middle");
	fails(parse(BOOT_PROTO_PVH, 0x100), EINVAL, "missing", "pvh start_info outside");
	fails(parse(BOOT_PROTO_PVH, WEND - 47), EINVAL, "missing", "pvh start_info straddling the end");

	build_pvh();
	w32(PVH_INFO + 4, 0);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EINVAL, "version 0", "pvh version 0");
	/* Version 1 but the window ends before memmap_entries. */
	build_pvh();
	memmove(at(WEND - 48, 48), at(PVH_INFO, 48), 48);
	fails(parse(BOOT_PROTO_PVH, WEND - 48), EINVAL, "memory map", "pvh start_info cut at 48 bytes");

	build_pvh();
	w64(PVH_INFO + 24, 0x100000000ULL + PVH_CMDLINE);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EFAULT, "command line", "pvh cmdline above 4 GiB");
	build_pvh();
	memcpy(at(WEND - 3, 3), "abc", 3);
	w64(PVH_INFO + 24, WEND - 3);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EFAULT, "command line",
	      "pvh unterminated cmdline at the window end");

	build_pvh();
	w64(PVH_INFO + 16, WEND - 40);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EFAULT, "module", "pvh module list past the end");
	build_pvh();
	w32(PVH_INFO + 12, 0xffffffff);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EFAULT, "module", "pvh 2^32-1 modules");

	build_pvh();
	w64(PVH_INFO + 40, 0x1000);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EFAULT, "memory map", "pvh memory map outside");
	build_pvh();
	w32(PVH_INFO + 48, 0xffffffff);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EFAULT, "memory map", "pvh 2^32-1 map entries");
	build_pvh();
	w64(PVH_INFO + 40, UINT64_MAX - 8);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EFAULT, "memory map", "pvh memmap_paddr near 2^64");

	build_pvh();
	w32(PVH_INFO + 48, 0);
	fails(parse(BOOT_PROTO_PVH, PVH_INFO), EINVAL, "no usable RAM", "pvh empty memory map");
}

static void
helpers(void)
{
	is_str(bootinfo_protocol_name(BOOT_PROTO_MULTIBOOT1), "multiboot1", "name of multiboot1");
	is_str(bootinfo_protocol_name(BOOT_PROTO_MULTIBOOT2), "multiboot2", "name of multiboot2");
	is_str(bootinfo_protocol_name(BOOT_PROTO_PVH), "pvh", "name of pvh");
	is_str(bootinfo_protocol_name(BOOT_PROTO_UNKNOWN), "unknown", "name of protocol 0");
	is_str(bootinfo_protocol_name(99), "unknown", "name of protocol 99");

	struct boot_info b;
	memset(&b, 0, sizeof(b));
	is_int(bootinfo_ram_total(&b), 0, "ram total of nothing");
	b.nmem = 3;
	b.mem[0] = (struct boot_mem_region){ 0, 0x1000, BOOT_MEM_RAM };
	b.mem[1] = (struct boot_mem_region){ 0x1000, 0x1000, BOOT_MEM_ACPI };
	b.mem[2] = (struct boot_mem_region){ 1ULL << 32, 1ULL << 33, BOOT_MEM_RAM };
	is_int(bootinfo_ram_total(&b), 0x1000 + (1ULL << 33), "ram total counts only RAM, 64-bit");
}

int
main(void)
{
	multiboot1();
	multiboot1_malformed();
	multiboot2();
	multiboot2_malformed();
	pvh();
	pvh_malformed();
	helpers();
	return done_testing();
}
