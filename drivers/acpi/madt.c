/*
 * ACPI: finding the RSDP and reading the CPUs out of the MADT ("APIC"
 * table) through the RSDT or XSDT.  Processor local APIC entries (type 0)
 * and processor local x2APIC entries (type 9) count when their enabled
 * bit is set.  Pure logic over a bounds-checked window (see cpus.h); no
 * AML, no other table.
 */
#include "drivers/acpi/cpus.h"

#include <errno.h>
#include <string.h>

static const uint8_t *
phys(const struct phys_window *w, uint64_t addr, uint64_t len)
{
	if (addr < w->base || len > w->len || addr - w->base > w->len - len)
		return NULL;
	return w->mem + (addr - w->base);
}

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint8_t
sum(const uint8_t *p, uint64_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A valid RSDP at addr: signature, ACPI 1 checksum, ACPI 2 one if rev >= 2. */
static bool
rsdp_valid(const struct phys_window *w, uint64_t addr)
{
	const uint8_t *p = phys(w, addr, 20);

	if (!p || memcmp(p, "RSD PTR ", 8) || sum(p, 20))
		return false;
	if (p[15] >= 2) {
		const uint8_t *x = phys(w, addr, 36);
		if (!x)
			return false;
		uint32_t len = rd32(x + 20);
		if (len < 36 || !(x = phys(w, addr, len)) || sum(x, len))
			return false;
	}
	return true;
}

static bool
scan_rsdp(const struct phys_window *w, uint64_t from, uint64_t to,
	  uint64_t *rsdp)
{
	for (uint64_t a = from; a + 20 <= to; a += 16)
		if (rsdp_valid(w, a)) {
			*rsdp = a;
			return true;
		}
	return false;
}

int
acpi_find_rsdp(const struct phys_window *w, uint64_t hint, uint64_t *rsdp)
{
	if (hint) {
		if (!rsdp_valid(w, hint))
			return -ENOENT;
		*rsdp = hint;
		return 0;
	}
	const uint8_t *bda = phys(w, 0x40E, 2);
	if (bda) {
		uint64_t ebda = (uint64_t)(bda[0] | bda[1] << 8) << 4;
		if (ebda >= 0x80000 && ebda < 0xA0000 &&
		    scan_rsdp(w, ebda, ebda + 1024, rsdp))
			return 0;
	}
	return scan_rsdp(w, 0xE0000, 0x100000, rsdp) ? 0 : -ENOENT;
}

/* A whole SDT at addr with its checksum right, or NULL. */
static const uint8_t *
sdt(const struct phys_window *w, uint64_t addr, uint32_t *len)
{
	const uint8_t *h = phys(w, addr, 36);

	if (!h)
		return NULL;
	*len = rd32(h + 4);
	if (*len < 36 || !(h = phys(w, addr, *len)) || sum(h, *len))
		return NULL;
	return h;
}

static void
add_cpu(struct fw_cpus *out, uint32_t apic_id)
{
	for (unsigned i = 0; i < out->n; i++)
		if (out->apic_id[i] == apic_id)
			return;		/* listed twice (xAPIC and x2APIC) */
	if (out->n == FW_CPUS_MAX) {
		out->dropped++;
		return;
	}
	out->apic_id[out->n++] = apic_id;
}

static int
parse_madt(const uint8_t *t, uint32_t len, struct fw_cpus *out,
	   const char **why)
{
	if (len < 44) {
		*why = "MADT shorter than its header";
		return -EINVAL;
	}
	out->lapic_base = rd32(t + 36);
	for (uint32_t off = 44; off < len;) {
		if (len - off < 2) {
			*why = "MADT entry header runs past the table";
			return -EINVAL;
		}
		uint8_t type = t[off], elen = t[off + 1];
		if (elen < 2 || elen > len - off) {
			*why = "MADT entry with a bad length";
			return -EINVAL;
		}
		const uint8_t *e = t + off;
		if (type == 0 && elen >= 8 && (rd32(e + 4) & 1))
			add_cpu(out, e[3]);
		else if (type == 5 && elen >= 12)
			out->lapic_base = rd64(e + 4);
		else if (type == 9 && elen >= 16 && (rd32(e + 8) & 1))
			add_cpu(out, rd32(e + 4));
		off += elen;
	}
	return 0;
}

int
acpi_madt_cpus(const struct phys_window *w, uint64_t rsdp, struct fw_cpus *out,
	       const char **why)
{
	memset(out, 0, sizeof(*out));
	out->source = "MADT";
	if (!rsdp_valid(w, rsdp)) {
		*why = "no valid RSDP";
		return -EINVAL;
	}
	const uint8_t *r = phys(w, rsdp, 20);
	bool xsdt = r[15] >= 2 && rd64(phys(w, rsdp, 36) + 24);
	uint64_t root = xsdt ? rd64(r + 24) : rd32(r + 16);
	uint32_t len;
	const uint8_t *t = sdt(w, root, &len);
	if (!t || memcmp(t, xsdt ? "XSDT" : "RSDT", 4)) {
		*why = xsdt ? "bad XSDT" : "bad RSDT";
		return -EINVAL;
	}
	unsigned esize = xsdt ? 8 : 4;
	for (uint32_t off = 36; off + esize <= len; off += esize) {
		uint64_t a = xsdt ? rd64(t + off) : rd32(t + off);
		const uint8_t *h = phys(w, a, 36);
		if (!h || memcmp(h, "APIC", 4))
			continue;
		uint32_t mlen;
		const uint8_t *m = sdt(w, a, &mlen);
		if (!m) {
			*why = "MADT truncated or with a bad checksum";
			return -EINVAL;
		}
		int err = parse_madt(m, mlen, out, why);
		if (!err && !out->n) {
			*why = "MADT lists no enabled CPU";
			return -ENOENT;
		}
		return err;
	}
	*why = "no MADT";
	return -ENOENT;
}
