/*
 * ACPI: finding the RSDP and reading the CPUs out of the MADT ("APIC"
 * table) through the RSDT or XSDT.  Processor local APIC entries (type 0)
 * and processor local x2APIC entries (type 9) count when their enabled
 * bit is set; the same table's I/O APIC and interrupt source override
 * entries give the interrupt routing, and the MCFG table the PCI Express
 * configuration windows.  Pure logic over a bounds-checked window (see
 * cpus.h); no AML.
 */
#include "drivers/acpi/cpus.h"

#include <errno.h>
#include <string.h>

#include "lib/kernel/physwin.h"

/* A valid RSDP at addr: signature, ACPI 1 checksum, ACPI 2 one if rev >= 2. */
static bool
rsdp_valid(const struct phys_window *w, uint64_t addr)
{
	const uint8_t *p = phys_ptr(w, addr, 20);

	if (!p || memcmp(p, "RSD PTR ", 8) || checksum8(p, 20))
		return false;
	if (p[15] >= 2) {
		const uint8_t *x = phys_ptr(w, addr, 36);
		if (!x)
			return false;
		uint32_t len = get32(x + 20);
		if (len < 36 || !(x = phys_ptr(w, addr, len)) || checksum8(x, len))
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
	const uint8_t *bda = phys_ptr(w, 0x40E, 2);
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
	const uint8_t *h = phys_ptr(w, addr, 36);

	if (!h)
		return NULL;
	*len = get32(h + 4);
	if (*len < 36 || !(h = phys_ptr(w, addr, *len)) || checksum8(h, *len))
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
	out->lapic_base = get32(t + 36);
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
		if (type == 0 && elen >= 8 && (get32(e + 4) & 1))
			add_cpu(out, e[3]);
		else if (type == 5 && elen >= 12)
			out->lapic_base = get64(e + 4);
		else if (type == 9 && elen >= 16 && (get32(e + 8) & 1))
			add_cpu(out, get32(e + 4));
		off += elen;
	}
	return 0;
}

int
acpi_find_table(const struct phys_window *w, uint64_t rsdp, const char *sig,
		const uint8_t **table, uint32_t *len, const char **why)
{
	if (!rsdp_valid(w, rsdp)) {
		*why = "no valid RSDP";
		return -EINVAL;
	}
	const uint8_t *r = phys_ptr(w, rsdp, 20);
	bool xsdt = r[15] >= 2 && get64(phys_ptr(w, rsdp, 36) + 24);
	uint64_t root = xsdt ? get64(r + 24) : get32(r + 16);
	uint32_t rlen;
	const uint8_t *t = sdt(w, root, &rlen);
	if (!t || memcmp(t, xsdt ? "XSDT" : "RSDT", 4)) {
		*why = xsdt ? "bad XSDT" : "bad RSDT";
		return -EINVAL;
	}
	unsigned esize = xsdt ? 8 : 4;
	for (uint32_t off = 36; off + esize <= rlen; off += esize) {
		uint64_t a = xsdt ? get64(t + off) : get32(t + off);
		const uint8_t *h = phys_ptr(w, a, 36);
		if (!h || memcmp(h, sig, 4))
			continue;
		*table = sdt(w, a, len);
		if (!*table) {
			*why = "truncated or with a bad checksum";
			return -EINVAL;
		}
		return 0;
	}
	*why = "not listed";
	return -ENOENT;
}

int
acpi_madt_cpus(const struct phys_window *w, uint64_t rsdp, struct fw_cpus *out,
	       const char **why)
{
	memset(out, 0, sizeof(*out));
	out->source = "MADT";
	const uint8_t *m;
	uint32_t mlen;
	int err = acpi_find_table(w, rsdp, "APIC", &m, &mlen, why);
	if (err == -ENOENT)
		*why = "no MADT";
	else if (err && *why[0] == 't')
		*why = "MADT truncated or with a bad checksum";
	if (err)
		return err;
	err = parse_madt(m, mlen, out, why);
	if (!err && !out->n) {
		*why = "MADT lists no enabled CPU";
		return -ENOENT;
	}
	return err;
}

/* Type 1 (I/O APIC) and type 2 (interrupt source override) entries. */
int
acpi_madt_irqs(const struct phys_window *w, uint64_t rsdp, struct fw_irqs *out,
	       const char **why)
{
	memset(out, 0, sizeof(*out));
	const uint8_t *t;
	uint32_t len;
	int err = acpi_find_table(w, rsdp, "APIC", &t, &len, why);
	if (err)
		return err;
	if (len < 44) {
		*why = "MADT shorter than its header";
		return -EINVAL;
	}
	for (uint32_t off = 44; off + 2 <= len;) {
		uint8_t type = t[off], elen = t[off + 1];
		if (elen < 2 || elen > len - off) {
			*why = "MADT entry with a bad length";
			return -EINVAL;
		}
		const uint8_t *e = t + off;
		if (type == 1 && elen >= 12 && out->nioapic < FW_IOAPIC_MAX) {
			struct fw_ioapic *a = &out->ioapic[out->nioapic++];
			a->id = e[2];
			a->addr = get32(e + 4);
			a->gsi_base = get32(e + 8);
		} else if (type == 2 && elen >= 10 && out->nover < FW_IRQ_OVERRIDE_MAX) {
			struct fw_irq_override *o = &out->over[out->nover++];
			o->source = e[3];
			o->gsi = get32(e + 4);
			o->flags = (uint16_t)(e[8] | e[9] << 8);
		}
		off += elen;
	}
	if (!out->nioapic) {
		*why = "MADT lists no I/O APIC";
		return -ENOENT;
	}
	return 0;
}

/* MCFG: a 44-byte header, then 16-byte allocations. */
int
acpi_mcfg(const struct phys_window *w, uint64_t rsdp, struct fw_ecam *out,
	  unsigned max, unsigned *n, const char **why)
{
	const uint8_t *t;
	uint32_t len;
	*n = 0;
	int err = acpi_find_table(w, rsdp, "MCFG", &t, &len, why);
	if (err)
		return err;
	for (uint32_t off = 44; off + 16 <= len && *n < max; off += 16) {
		const uint8_t *e = t + off;
		struct fw_ecam *c = &out[(*n)++];
		c->base = get64(e);
		c->segment = (uint16_t)(e[8] | e[9] << 8);
		c->bus_start = e[10];
		c->bus_end = e[11];
	}
	return 0;
}
