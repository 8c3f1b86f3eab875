/*
 * The firmware CPU-list parsers (drivers/acpi/madt.c, mptable.c) on tables
 * recorded from QEMU 7.2 guests (pc and q35 through SeaBIOS's RSDT,
 * microvm's XSDT, microvm,acpi=off's MP table with its entry count of 0),
 * the I/O APIC and override entries the same MADTs carry (ioapic.c) and
 * the MCFG lookup, then on damaged copies: bad checksums, entries with a
 * zero or too long length, tables running off the end of memory, disabled
 * CPUs, more CPUs than fit, and random corruption.  Each must give the
 * right list or an error, never a read outside the window (the -san build
 * checks that).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi/cpus.h"
#include "tap.h"

struct blob {
	const char *tag;
	uint64_t addr;
	const char *hex;
};

/* QEMU 7.2 -M pc -smp 4 -m 16M, as the guest saw it. */
static const struct blob rec_pc[] = {
	{ "rsdp", 0xf59d0, /* 20 bytes */
	  "5253442050545220a5424f4348532000941bfe00" },
	{ "rsdt", 0xfe1b94, /* 52 bytes */
	  "5253445434000000014d424f4348532042585043202020200100000042585043"
	  "01000000301afe00a41afe00341bfe006c1bfe00" },
	{ "madt", 0xfe1aa4, /* 144 bytes */
	  "4150494390000000014b424f4348532042585043202020200100000042585043"
	  "010000000000e0fe010000000008000001000000000801010100000000080202"
	  "010000000008030301000000010c00000000c0fe00000000020a000002000000"
	  "0000020a0005050000000d00020a0009090000000d00020a000a0a0000000d00"
	  "020a000b0b0000000d000406ff000001" },
	{ NULL, 0, NULL },
};

/* QEMU 7.2 -M q35 -smp 4 -m 16M, as the guest saw it. */
static const struct blob rec_q35[] = {
	{ "rsdp", 0xf59e0, /* 20 bytes */
	  "5253442050545220aa424f43485320008723fe00" },
	{ "rsdt", 0xfe2387, /* 56 bytes */
	  "5253445438000000014f424f4348532042585043202020200100000042585043"
	  "010000006721fe005b22fe00eb22fe002323fe005f23fe00" },
	{ "madt", 0xfe225b, /* 144 bytes */
	  "4150494390000000014b424f4348532042585043202020200100000042585043"
	  "010000000000e0fe010000000008000001000000000801010100000000080202"
	  "010000000008030301000000010c00000000c0fe00000000020a000002000000"
	  "0000020a0005050000000d00020a0009090000000d00020a000a0a0000000d00"
	  "020a000b0b0000000d000406ff000001" },
	{ NULL, 0, NULL },
};

/* QEMU 7.2 -M microvm -smp 4 -m 16M, as the guest saw it. */
static const struct blob rec_microvm[] = {
	{ "rsdp", 0xf34d0, /* 36 bytes */
	  "525344205054522050424f43485320020000000024000000c6ff0e0000000000"
	  "09000000" },
	{ "xsdt", 0xeffc6, /* 52 bytes */
	  "58534454340000000158424f4348532042585043202020200100000042585043"
	  "0100000050fe0e00000000005cff0e0000000000" },
	{ "madt", 0xeff5c, /* 106 bytes */
	  "415049436a0000000144424f4348532042585043202020200100000042585043"
	  "010000000000e0fe010000000008000001000000000801010100000000080202"
	  "010000000008030301000000010c00000000c0fe00000000010c01000000c1fe"
	  "180000000406ff000001" },
	{ NULL, 0, NULL },
};

/* QEMU 7.2 -M microvm,acpi=off -smp 4 -m 16M, as the guest saw it. */
static const struct blob rec_mp[] = {
	{ "mpfp", 0x9fc00, /* 16 bytes */
	  "5f4d505f10fc090001048b0000000000" },
	{ "mpct", 0x9fc10, /* 276 bytes */
	  "50434d501401044e51424f4f5420202030303030303030303030303000000000"
	  "000000000000e0fe0000000000001403b10f0600fdfb8b170000000000000000"
	  "00011401b10f0600fdfb8b17000000000000000000021401b10f0600fdfb8b17"
	  "000000000000000000031401b10f0600fdfb8b17000000000000000001004953"
	  "41202020020514010000c0fe0300000000000502030000000001050103000000"
	  "0003050303000000000405040300000000050505030000000006050603000000"
	  "000705070300000000080508030000000009050903000000000a050a03000000"
	  "000b050b03000000000c050c03000000000d050d03000000000e050e03000000"
	  "000f050f0403000000000000040100000000ff01" },
	{ NULL, 0, NULL },
};
#define WIN_LEN (16u << 20)

static uint8_t *mem;
static struct phys_window win;

static uint64_t
load(const struct blob *b, const char *tag)
{
	uint64_t at = 0;

	memset(mem, 0, WIN_LEN);
	for (; b->tag; b++) {
		size_t n = strlen(b->hex) / 2;
		for (size_t i = 0; i < n; i++) {
			unsigned v;
			sscanf(b->hex + 2 * i, "%2x", &v);
			mem[b->addr + i] = (uint8_t)v;
		}
		if (!strcmp(b->tag, tag))
			at = b->addr;
	}
	return at;
}

static uint32_t
rec_get32(uint64_t a)
{
	uint32_t v;

	memcpy(&v, mem + a, 4);
	return v;
}

static void
put32(uint64_t a, uint32_t v)
{
	memcpy(mem + a, &v, 4);
}

/* Recomputes the checksum byte at a + off over len bytes. */
static void
fix_sum(uint64_t a, uint32_t len, uint32_t off)
{
	uint8_t s = 0;

	mem[a + off] = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + mem[a + i]);
	mem[a + off] = (uint8_t)-s;
}

static int
cpus_are(const struct fw_cpus *c, unsigned n)
{
	if (c->n != n)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (c->apic_id[i] != i)
			return 0;
	return 1;
}

static void
test_recorded(void)
{
	struct fw_cpus c;
	const char *why = "";
	uint64_t rsdp = 0;

	/* pc: SeaBIOS's RSDP is found by scanning 0xE0000-0xFFFFF. */
	uint64_t want = load(rec_pc, "rsdp");
	is_int(acpi_find_rsdp(&win, 0, &rsdp), 0, "pc: RSDP found by the BIOS-area scan");
	is_int((long)rsdp, (long)want, "pc: at the recorded address");
	is_int(acpi_madt_cpus(&win, rsdp, &c, &why), 0, "pc: MADT parsed");
	ok(cpus_are(&c, 4), "pc: four CPUs, APIC ids 0-3");
	is_int((long)c.lapic_base, 0xFEE00000L, "pc: local APIC at 0xFEE00000");
	is_str(c.source, "MADT", "pc: source named");
	is_int(mptable_cpus(&win, &c, &why), -ENOENT, "pc: no MP table in the recording");

	want = load(rec_q35, "rsdp");
	is_int(acpi_find_rsdp(&win, 0, &rsdp), 0, "q35: RSDP found");
	is_int((long)rsdp, (long)want, "q35: at the recorded address");
	is_int(acpi_madt_cpus(&win, rsdp, &c, &why), 0, "q35: MADT parsed");
	ok(cpus_are(&c, 4), "q35: four CPUs");

	/* microvm: ACPI 2 RSDP (as PVH's start_info hands it), XSDT. */
	want = load(rec_microvm, "rsdp");
	is_int(acpi_find_rsdp(&win, want, &rsdp), 0, "microvm: RSDP from the boot loader's hint");
	is_int(acpi_madt_cpus(&win, rsdp, &c, &why), 0, "microvm: MADT through the XSDT");
	ok(cpus_are(&c, 4), "microvm: four CPUs");
	is_int(acpi_find_rsdp(&win, want + 16, &rsdp), -ENOENT, "a wrong hint is refused");

	load(rec_mp, "mpfp");
	is_int(acpi_find_rsdp(&win, 0, &rsdp), -ENOENT, "microvm,acpi=off: no RSDP");
	is_int(mptable_cpus(&win, &c, &why), 0, "microvm,acpi=off: MP table parsed");
	ok(cpus_are(&c, 4), "microvm,acpi=off: four CPUs despite an entry count of 0");
	is_int((long)c.lapic_base, 0xFEE00000L, "MP table: local APIC address");
	is_str(c.source, "MP table", "MP table: source named");
}

/* I/O APICs and interrupt source overrides from the same recordings. */
static void
test_irqs(void)
{
	struct fw_irqs irqs;
	const char *why = "";
	uint64_t rsdp = 0;

	load(rec_q35, "rsdp");
	acpi_find_rsdp(&win, 0, &rsdp);
	is_int(acpi_madt_irqs(&win, rsdp, &irqs, &why), 0, "q35: MADT interrupt entries parsed");
	ok(irqs.nioapic == 1 && irqs.ioapic[0].addr == 0xFEC00000u &&
	   irqs.ioapic[0].gsi_base == 0, "q35: one I/O APIC at 0xFEC00000, GSI base 0");
	ok(irqs.nover == 5 && irqs.over[0].source == 0 && irqs.over[0].gsi == 2,
	   "q35: five overrides, the first ISA IRQ 0 -> GSI 2");
	ok(irqs.over[2].source == 9 && irqs.over[2].gsi == 9 && irqs.over[2].flags == 0x0D,
	   "q35: IRQ 9 level-triggered, active high (flags 0x0D)");

	uint64_t want = load(rec_microvm, "rsdp");
	is_int(acpi_madt_irqs(&win, want, &irqs, &why), 0, "microvm: MADT interrupt entries");
	ok(irqs.nioapic == 2 && irqs.ioapic[1].addr == 0xFEC10000u &&
	   irqs.ioapic[1].gsi_base == 24, "microvm: a second I/O APIC at GSI 24");
	const uint8_t *t;
	uint32_t len;
	is_int(acpi_find_table(&win, want, "MCFG", &t, &len, &why), -ENOENT,
	       "microvm: no MCFG listed");
	struct fw_ecam e[2];
	unsigned n = 9;
	is_int(acpi_mcfg(&win, want, e, 2, &n, &why), -ENOENT, "acpi_mcfg: -ENOENT without one");
	is_int(n, 0, "acpi_mcfg: no windows");
}

static void
test_bad_madt(void)
{
	struct fw_cpus c;
	const char *why;
	uint64_t rsdp = 0xf59d0, madt;

	madt = load(rec_pc, "madt");
	mem[madt + 50] ^= 1;
	why = NULL;
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) < 0 && why, "bad MADT checksum: error with a reason");

	madt = load(rec_pc, "madt");
	mem[madt + 45] = 0;		/* first entry's length */
	fix_sum(madt, rec_get32(madt + 4), 9);
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) < 0, "MADT entry of length 0: error, no endless loop");

	madt = load(rec_pc, "madt");
	mem[madt + 45] = 0xF0;		/* first entry runs past the table */
	fix_sum(madt, rec_get32(madt + 4), 9);
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) < 0, "MADT entry longer than the table: error");

	madt = load(rec_pc, "madt");
	put32(madt + 4, 0xFFFFFFF0);	/* table length past memory's end */
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) < 0, "MADT length past the window: error");

	madt = load(rec_pc, "madt");
	put32(madt + 4, 40);		/* shorter than its own header */
	fix_sum(madt, 40, 9);
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) < 0, "MADT shorter than its header: error");

	madt = load(rec_pc, "madt");
	for (uint32_t off = 44; off < 44 + 4 * 8; off += 8)
		mem[madt + off + 4] = 0;	/* every CPU disabled */
	fix_sum(madt, rec_get32(madt + 4), 9);
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) == -ENOENT, "no enabled CPU: -ENOENT");

	madt = load(rec_pc, "madt");
	mem[madt + 44 + 8 + 4] = 0;	/* CPU 1 disabled */
	fix_sum(madt, rec_get32(madt + 4), 9);
	ok(!acpi_madt_cpus(&win, rsdp, &c, &why) && c.n == 3 && c.apic_id[1] == 2,
	   "a disabled CPU is left out");

	load(rec_pc, "rsdp");
	put32(rsdp + 16, WIN_LEN - 8);	/* RSDT at the very end of memory */
	fix_sum(rsdp, 20, 8);
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) < 0, "RSDT past the window: error");
	put32(rsdp + 16, 0xFFFFFFFF);
	fix_sum(rsdp, 20, 8);
	ok(acpi_madt_cpus(&win, rsdp, &c, &why) < 0, "RSDT at 4 GiB - 1: error");
	ok(acpi_madt_cpus(&win, WIN_LEN - 4, &c, &why) < 0, "RSDP at the window's end: error");

	/* 70 enabled CPUs in a synthetic MADT: 64 kept, 6 counted as dropped. */
	load(rec_pc, "madt");
	madt = 0x200000;
	memcpy(mem + madt, mem + 0xfe1aa4, 44);
	uint32_t len = 44;
	for (unsigned i = 0; i < 70; i++, len += 8) {
		uint8_t e[8] = { 0, 8, (uint8_t)i, (uint8_t)i, 1, 0, 0, 0 };
		memcpy(mem + madt + len, e, 8);
	}
	put32(madt + 4, len);
	fix_sum(madt, len, 9);
	put32(0xfe1b94 + 36 + 4, (uint32_t)madt);	/* RSDT's second entry */
	fix_sum(0xfe1b94, rec_get32(0xfe1b94 + 4), 9);
	ok(!acpi_madt_cpus(&win, rsdp, &c, &why) && c.n == FW_CPUS_MAX && c.dropped == 6,
	   "70 CPUs: 64 listed, 6 dropped");
}

static void
test_bad_mptable(void)
{
	struct fw_cpus c;
	const char *why;
	const uint64_t ct = 0x9fc10;

	load(rec_mp, "mpct");
	mem[ct + 50] ^= 1;
	ok(mptable_cpus(&win, &c, &why) < 0, "bad MP table checksum: error");

	load(rec_mp, "mpct");
	mem[ct + 44] = 0x42;		/* unknown entry type */
	fix_sum(ct, 276, 7);
	ok(mptable_cpus(&win, &c, &why) < 0, "unknown MP entry type: error");

	load(rec_mp, "mpct");
	mem[ct + 4] = 50;		/* a processor entry cut by the length */
	mem[ct + 5] = 0;
	fix_sum(ct, 50, 7);
	ok(mptable_cpus(&win, &c, &why) < 0, "MP entry past the table's end: error");

	load(rec_mp, "mpct");
	mem[ct + 4] = 0xFF;		/* table runs past the scanned memory */
	mem[ct + 5] = 0xFF;
	ok(mptable_cpus(&win, &c, &why) < 0, "MP table length past its data: error");

	load(rec_mp, "mpfp");
	put32(0x9fc00 + 4, WIN_LEN - 4);	/* pointer to the window's end */
	fix_sum(0x9fc00, 16, 10);
	ok(mptable_cpus(&win, &c, &why) < 0, "MP pointer to the window's end: error");

	load(rec_mp, "mpct");
	mem[ct + 44 + 20 + 3] = 0;	/* CPU 1 disabled */
	fix_sum(ct, 276, 7);
	ok(!mptable_cpus(&win, &c, &why) && c.n == 3, "a disabled MP processor is left out");
}

/* Random byte damage, checksums repaired so the parsers look inside. */
static void
test_fuzz(void)
{
	struct fw_cpus c;
	const char *why;
	unsigned runs = 0;

	srand(4);
	for (int i = 0; i < 2000; i++) {
		uint64_t rsdp;
		uint64_t madt = load(rec_pc, "madt");
		uint32_t len = rec_get32(madt + 4);
		for (int k = 0; k < 4; k++)
			mem[madt + 36 + (unsigned)rand() % (len - 36)] = (uint8_t)rand();
		fix_sum(madt, len, 9);
		if (!acpi_find_rsdp(&win, 0, &rsdp)) {
			struct fw_irqs irqs;
			(void)acpi_madt_cpus(&win, rsdp, &c, &why);
			(void)acpi_madt_irqs(&win, rsdp, &irqs, &why);
		}
		load(rec_mp, "mpct");
		for (int k = 0; k < 4; k++)
			mem[0x9fc10 + 4 + (unsigned)rand() % 272] = (uint8_t)rand();
		fix_sum(0x9fc10, rec_get32(0x9fc10 + 4) & 0xFFFF, 7);
		(void)mptable_cpus(&win, &c, &why);
		runs++;
	}
	ok(runs == 2000, "2000 randomly damaged MADTs and MP tables: no crash");
}

int
main(void)
{
	plan(47);
	mem = calloc(1, WIN_LEN);
	if (!mem)
		return 99;
	win = (struct phys_window){ 0, WIN_LEN, mem };
	test_recorded();
	test_irqs();
	test_bad_madt();
	test_bad_mptable();
	test_fuzz();
	free(mem);
	return done_testing();
}
