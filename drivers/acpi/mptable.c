/*
 * The Intel MultiProcessor Specification table, for machines without ACPI
 * (QEMU's microvm with acpi=off).  Only processor entries matter here.
 * SeaBIOS builds one too but lists only the boot CPU in it, so the MADT
 * wins whenever there is one (arch/x86_64/smp.c decides).  Pure logic over
 * a bounds-checked window (see cpus.h).
 */
#include "drivers/acpi/cpus.h"

#include <errno.h>
#include <string.h>

#include "lib/kernel/physwin.h"

/* The 16-byte floating pointer structure in [from, to), or 0. */
static uint64_t
scan_mpfp(const struct phys_window *w, uint64_t from, uint64_t to)
{
	for (uint64_t a = from; a + 16 <= to; a += 16) {
		const uint8_t *p = phys_ptr(w, a, 16);
		if (p && !memcmp(p, "_MP_", 4) && p[8] == 1 && !checksum8(p, 16))
			return a;
	}
	return 0;
}

static uint64_t
find_mpfp(const struct phys_window *w)
{
	uint64_t a = 0;
	const uint8_t *bda = phys_ptr(w, 0x40E, 2);

	if (bda) {
		uint64_t ebda = (uint64_t)(bda[0] | bda[1] << 8) << 4;
		if (ebda >= 0x80000 && ebda < 0xA0000)
			a = scan_mpfp(w, ebda, ebda + 1024);
	}
	if (!a)
		a = scan_mpfp(w, 0x9FC00, 0xA0000);
	if (!a)
		a = scan_mpfp(w, 0xF0000, 0x100000);
	return a;
}

int
mptable_cpus(const struct phys_window *w, struct fw_cpus *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	out->source = "MP table";
	uint64_t fp = find_mpfp(w);
	if (!fp) {
		*why = "no MP floating pointer";
		return -ENOENT;
	}
	uint64_t cfg = get32(phys_ptr(w, fp, 16) + 4);
	if (!cfg) {
		*why = "MP default configuration (no table)";
		return -ENOENT;
	}
	const uint8_t *h = phys_ptr(w, cfg, 44);
	if (!h || memcmp(h, "PCMP", 4)) {
		*why = "no MP configuration table";
		return -EINVAL;
	}
	uint16_t len = (uint16_t)(h[4] | h[5] << 8);
	if (len < 44 || !(h = phys_ptr(w, cfg, len)) || checksum8(h, len)) {
		*why = "MP configuration table truncated or with a bad checksum";
		return -EINVAL;
	}
	out->lapic_base = get32(h + 36);
	for (uint32_t off = 44; off < len;) {
		uint8_t type = h[off];
		uint32_t elen = type == 0 ? 20 : 8;
		if (type > 4 && type < 128) {
			*why = "MP table entry of an unknown type";
			return -EINVAL;
		}
		if (type >= 128) {		/* extended entries: length byte */
			if (len - off < 2 || h[off + 1] < 2) {
				*why = "MP table entry with a bad length";
				return -EINVAL;
			}
			elen = h[off + 1];
		}
		if (elen > len - off) {
			*why = "MP table entry runs past the table";
			return -EINVAL;
		}
		if (type == 0 && (h[off + 3] & 1)) {
			uint32_t id = h[off + 1];
			bool seen = false;
			for (unsigned i = 0; i < out->n; i++)
				seen = seen || out->apic_id[i] == id;
			if (!seen && out->n < FW_CPUS_MAX)
				out->apic_id[out->n++] = id;
			else if (!seen)
				out->dropped++;
		}
		off += elen;
	}
	if (!out->n) {
		*why = "MP table lists no enabled CPU";
		return -ENOENT;
	}
	return 0;
}
