/*
 * ksym_lookup() over symbol tables built in memory in the link wrapper's
 * format (u64 count, u64 base, sorted {u32 addr - base; u32 name; u32 size}
 * entries, then
 * NUL-terminated names): exact starts, offsets inside a symbol, addresses
 * past a symbol's size, before the first and after the last symbol (size
 * known and unknown), and damaged tables (count larger than the buffer,
 * name offset out of range, name without NUL, buffer shorter than 8).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/kernel/ksyms.h"
#include "tap.h"

/* 8-byte aligned, as the .toro.ksyms section is. */
static union {
	uint64_t align;
	unsigned char b[4096];
} tab;

struct sym {
	uint64_t addr;
	uint32_t size;
	const char *name;
};

/* Writes the table; returns its length in bytes. */
static size_t
build(const struct sym *s, uint64_t count)
{
	struct ksym_entry *e = (struct ksym_entry *)(tab.b + KSYM_HEADER);
	char *names = (char *)(e + count);
	size_t off = 0;
	uint64_t base = count ? s[0].addr : 0;

	memset(tab.b, 0xAA, sizeof(tab.b));
	memcpy(tab.b, &count, 8);
	memcpy(tab.b + 8, &base, 8);	/* after the count */
	for (uint64_t i = 0; i < count; i++) {
		e[i].addr = (uint32_t)(s[i].addr - base);
		e[i].size = s[i].size;
		e[i].name = (uint32_t)off;
		size_t n = strlen(s[i].name) + 1;
		memcpy(names + off, s[i].name, n);
		off += n;
	}
	return (size_t)(names + off - (char *)tab.b);
}

static const struct sym syms[] = {
	{ 0x100000, 0x40, "_start" },
	{ 0x100040, 0x00, "no_size" },	/* size unknown: up to the next one */
	{ 0x100080, 0x20, "memcpy" },
	{ 0x1000c0, 0x10, "after_gap" },	/* gap 0x1000a0..0x1000c0 */
	{ 0x200000, 0x00, "last_unknown" },
};
#define NSYMS (sizeof(syms) / sizeof(syms[0]))

static void
lookups(void)
{
	size_t len = build(syms, NSYMS);
	uint64_t off;
	const char *n;

	off = 99;
	n = ksym_lookup(tab.b, len, 0x100000, &off);
	is_str(n, "_start", "exact start of the first symbol");
	is_int(off, 0, "offset 0 at the start");

	n = ksym_lookup(tab.b, len, 0x10003f, &off);
	is_str(n, "_start", "last byte of _start");
	is_int(off, 0x3f, "offset 0x3f");

	n = ksym_lookup(tab.b, len, 0x100040, &off);
	is_str(n, "no_size", "start of a symbol without size");
	n = ksym_lookup(tab.b, len, 0x10007f, &off);
	is_str(n, "no_size", "unknown size extends to the next symbol");
	is_int(off, 0x3f, "offset into the size-0 symbol");

	n = ksym_lookup(tab.b, len, 0x100090, &off);
	is_str(n, "memcpy", "inside memcpy");
	is_int(off, 0x10, "offset 0x10 into memcpy");

	off = 1234;
	ok(ksym_lookup(tab.b, len, 0x1000a0, &off) == NULL,
	   "address just past memcpy's size: no symbol");
	is_int(off, 1234, "offset untouched on failure");
	ok(ksym_lookup(tab.b, len, 0x1000bf, &off) == NULL, "last byte of the gap");

	n = ksym_lookup(tab.b, len, 0x1000c0, &off);
	is_str(n, "after_gap", "symbol after a gap");
	ok(ksym_lookup(tab.b, len, 0x1000d0, &off) == NULL,
	   "past after_gap's size, before the last symbol");

	ok(ksym_lookup(tab.b, len, 0xfffff, &off) == NULL, "before the first symbol");
	ok(ksym_lookup(tab.b, len, 0, &off) == NULL, "address 0");

	ok(ksym_lookup(tab.b, len, 0x200000, &off) == NULL,
	   "the last symbol with unknown size covers nothing");
	ok(ksym_lookup(tab.b, len, 0x300000, &off) == NULL,
	   "after the last symbol (size unknown)");
	ok(ksym_lookup(tab.b, len, UINT64_MAX, &off) == NULL, "address UINT64_MAX");
}

static void
last_with_size(void)
{
	static const struct sym s[] = {
		{ 0x1000, 0x10, "a" },
		{ 0x2000, 0x100, "b" },
	};
	size_t len = build(s, 2);
	uint64_t off;

	is_str(ksym_lookup(tab.b, len, 0x20ff, &off), "b", "last byte of the last symbol");
	is_int(off, 0xff, "offset in the last symbol");
	ok(ksym_lookup(tab.b, len, 0x2100, &off) == NULL,
	   "past the last symbol's known size");
	ok(ksym_lookup(tab.b, len, 0x1800, &off) == NULL, "in the gap after a sized symbol");

	static const struct sym unsized[] = { { 0x1000, 0, "first" }, { 0x2000, 0, "second" } };
	len = build(unsized, 2);
	is_str(ksym_lookup(tab.b, len, 0x1fff, &off), "first", "size-0 first symbol up to the next");
	ok(ksym_lookup(tab.b, len, 0xfff, &off) == NULL, "before a size-0 first symbol");
	ok(ksym_lookup(tab.b, len, 0, &off) == NULL, "address 0 before a size-0 first symbol");

	static const struct sym one[] = { { 0x5000, 8, "only" } };
	len = build(one, 1);
	is_str(ksym_lookup(tab.b, len, 0x5007, &off), "only", "single-entry table");
	ok(ksym_lookup(tab.b, len, 0x5008, &off) == NULL, "single entry, past its size");

	/* Many entries: the binary search must land on every one. */
	static struct sym many[100];
	static char names[100][16];
	for (int i = 0; i < 100; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		many[i] = (struct sym){ 0x400000 + 0x100 * (uint64_t)i, 0x80, names[i] };
	}
	len = build(many, 100);
	int bad = 0;
	for (int i = 0; i < 100; i++) {
		const char *n = ksym_lookup(tab.b, len, 0x400000 + 0x100 * (uint64_t)i + 0x7f, &off);
		if (!n || strcmp(n, names[i]) || off != 0x7f)
			bad++;
		if (ksym_lookup(tab.b, len, 0x400000 + 0x100 * (uint64_t)i + 0x80, &off))
			bad++;
	}
	is_int(bad, 0, "100 symbols: every inside/outside lookup right");
}

static void
malformed(void)
{
	size_t len = build(syms, NSYMS);
	uint64_t off, count;

	ok(ksym_lookup(tab.b, 0, 0x100000, &off) == NULL, "len 0");
	ok(ksym_lookup(tab.b, KSYM_HEADER - 1, 0x100000, &off) == NULL, "len shorter than the header");
	ok(ksym_lookup(tab.b, KSYM_HEADER, 0x100000, &off) == NULL, "header only: count does not fit");

	count = 0;
	memcpy(tab.b, &count, 8);
	ok(ksym_lookup(tab.b, len, 0x100000, &off) == NULL, "count 0");

	/* Entries exactly fill the buffer (no names): still checked. */
	build(syms, NSYMS);
	ok(ksym_lookup(tab.b, KSYM_HEADER + NSYMS * sizeof(struct ksym_entry), 0x100000, &off) == NULL,
	   "no room for names: name offset out of range");
	ok(ksym_lookup(tab.b, KSYM_HEADER + NSYMS * sizeof(struct ksym_entry) - 1, 0x100000, &off) == NULL,
	   "count larger than the buffer by one byte");

	count = (len - KSYM_HEADER) / sizeof(struct ksym_entry) + 1;
	memcpy(tab.b, &count, 8);
	ok(ksym_lookup(tab.b, len, 0x100000, &off) == NULL, "count larger than the buffer");
	count = UINT64_MAX;
	memcpy(tab.b, &count, 8);
	ok(ksym_lookup(tab.b, len, 0x100000, &off) == NULL, "count UINT64_MAX");
	count = UINT64_MAX / sizeof(struct ksym_entry) + 2;	/* count * size wraps */
	memcpy(tab.b, &count, 8);
	ok(ksym_lookup(tab.b, len, 0x100000, &off) == NULL, "count whose byte size wraps");

	len = build(syms, NSYMS);
	struct ksym_entry *e = (struct ksym_entry *)(tab.b + KSYM_HEADER);
	size_t names_len = len - KSYM_HEADER - NSYMS * sizeof(*e);
	e[2].name = (uint32_t)names_len;
	ok(ksym_lookup(tab.b, len, 0x100080, &off) == NULL, "name offset == names length");
	e[2].name = UINT32_MAX;
	ok(ksym_lookup(tab.b, len, 0x100080, &off) == NULL, "name offset UINT32_MAX");
	is_str(ksym_lookup(tab.b, len, 0x100000, &off), "_start",
	       "other entries still resolve");

	/* The last name loses its NUL: the table is cut one byte short. */
	len = build(syms, NSYMS);
	is_str(ksym_lookup(tab.b, len - 1, 0x1000c0, &off), "after_gap",
	       "a cut table still resolves names before the cut");
	/* Point after_gap's name at the final name, now unterminated. */
	e[3].name = e[4].name;
	ok(ksym_lookup(tab.b, len - 1, 0x1000c0, &off) == NULL,
	   "name without NUL before the end of the table");
	is_str(ksym_lookup(tab.b, len, 0x1000c0, &off), "last_unknown",
	       "the same name with its NUL resolves");
}

int
main(void)
{
	lookups();
	last_with_size();
	malformed();
	return done_testing();
}
