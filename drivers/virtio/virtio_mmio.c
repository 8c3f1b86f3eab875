/*
 * The virtio-mmio transport (virtio 1.x 4.2): version 2 (modern) and
 * version 1 (legacy: guest page size, queue PFN).  Devices come from
 * virtio_mmio.device=SIZE@ADDR:IRQ kernel options (QEMU microvm with
 * acpi=off and Firecracker write them) and, on microvm with ACPI, from a
 * probe of QEMU's fixed window: 512-byte slots from 0xFEB00000 whose
 * interrupt is GSI 24 + slot when the MADT lists a second I/O APIC at GSI
 * 24 (QEMU 7.2's ioapic2), else 16 + slot; a slot counts when it reads the
 * magic value and a nonzero device id.  The window is probed only on a
 * machine with ACPI and no PCI host bridge (microvm) and no device
 * declared on the command line.  (The DSDT describes the same
 * devices; we do not interpret AML.)  Each device's line goes through the
 * I/O APIC, level-triggered, active high.
 */
#include <errno.h>

#include "arch/x86_64/irq.h"
#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio.h"
#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"

#define MAGIC_VALUE	0x74726976	/* "virt" */

#define R_MAGIC		0x000
#define R_VERSION	0x004
#define R_DEVICE_ID	0x008
#define R_DEV_FEAT	0x010
#define R_DEV_FEAT_SEL	0x014
#define R_DRV_FEAT	0x020
#define R_DRV_FEAT_SEL	0x024
#define R_GUEST_PAGE	0x028		/* v1 */
#define R_QUEUE_SEL	0x030
#define R_QUEUE_NUM_MAX	0x034
#define R_QUEUE_NUM	0x038
#define R_QUEUE_ALIGN	0x03C		/* v1 */
#define R_QUEUE_PFN	0x040		/* v1 */
#define R_QUEUE_READY	0x044		/* v2 */
#define R_QUEUE_NOTIFY	0x050
#define R_INT_STATUS	0x060
#define R_INT_ACK	0x064
#define R_STATUS	0x070
#define R_QUEUE_DESC	0x080		/* v2, low then high */
#define R_QUEUE_DRIVER	0x090
#define R_QUEUE_DEVICE	0x0A0
#define R_CONFIG	0x100

#define MMIO_WINDOW	0xFEB00000u
#define MMIO_SLOT	512u
#define MMIO_DECL_MAX	16

struct mmio_decl {
	uint64_t addr, size;
	uint32_t gsi;
};

static struct mmio_decl decls[MMIO_DECL_MAX];
static unsigned ndecls;

struct virtio_mmio {
	struct virtio_dev vdev;
	volatile uint8_t *regs;
	uint32_t version, gsi;
};

static struct virtio_mmio *
priv(struct virtio_dev *d)
{
	return d->transport_priv;
}

static uint32_t
rd(struct virtio_mmio *m, unsigned off)
{
	return *(volatile uint32_t *)(m->regs + off);
}

static void
wr(struct virtio_mmio *m, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(m->regs + off) = v;
}

static uint64_t
mm_get_features(struct virtio_dev *d)
{
	struct virtio_mmio *m = priv(d);

	wr(m, R_DEV_FEAT_SEL, 0);
	uint64_t lo = rd(m, R_DEV_FEAT);
	wr(m, R_DEV_FEAT_SEL, 1);
	return (uint64_t)rd(m, R_DEV_FEAT) << 32 | lo;
}

static void
mm_set_features(struct virtio_dev *d, uint64_t f)
{
	struct virtio_mmio *m = priv(d);

	wr(m, R_DRV_FEAT_SEL, 0);
	wr(m, R_DRV_FEAT, (uint32_t)f);
	wr(m, R_DRV_FEAT_SEL, 1);
	wr(m, R_DRV_FEAT, (uint32_t)(f >> 32));
}

static uint8_t
mm_get_status(struct virtio_dev *d)
{
	return (uint8_t)rd(priv(d), R_STATUS);
}

static void
mm_set_status(struct virtio_dev *d, uint8_t s)
{
	struct virtio_mmio *m = priv(d);

	wr(m, R_STATUS, s);
	if (s)
		return;
	for (unsigned n = 0; n < 1000000 && rd(m, R_STATUS); n++)
		__builtin_ia32_pause();
	if (m->version == 1)
		wr(m, R_GUEST_PAGE, 4096);
}

static uint32_t
mm_config_read(struct virtio_dev *d, unsigned off, unsigned size)
{
	volatile uint8_t *b = priv(d)->regs + R_CONFIG + off;

	return size == 1 ? *b : size == 2 ? *(volatile uint16_t *)b
					  : *(volatile uint32_t *)b;
}

static uint16_t
mm_queue_max(struct virtio_dev *d, unsigned q)
{
	struct virtio_mmio *m = priv(d);

	wr(m, R_QUEUE_SEL, q);
	uint32_t n = rd(m, R_QUEUE_NUM_MAX);
	return (uint16_t)(n > VIRTIO_QUEUE_MAX ? VIRTIO_QUEUE_MAX : n);
}

static int
mm_queue_enable(struct virtio_dev *d, unsigned q, struct virtq *vq)
{
	struct virtio_mmio *m = priv(d);

	wr(m, R_QUEUE_SEL, q);
	wr(m, R_QUEUE_NUM, vq->size);
	if (m->version == 1) {
		uint64_t addr = (uint64_t)vq->desc;
		if (addr >> 44)
			return -ENOMEM;
		wr(m, R_QUEUE_ALIGN, 4096);
		wr(m, R_QUEUE_PFN, (uint32_t)(addr >> 12));
		return 0;
	}
	uint64_t a[3] = { (uint64_t)vq->desc, (uint64_t)vq->avail,
			  (uint64_t)vq->used };
	for (unsigned i = 0; i < 3; i++) {
		wr(m, R_QUEUE_DESC + 0x10 * i, (uint32_t)a[i]);
		wr(m, R_QUEUE_DESC + 0x10 * i + 4, (uint32_t)(a[i] >> 32));
	}
	wr(m, R_QUEUE_READY, 1);
	return 0;
}

static void
mm_notify(struct virtio_dev *d, unsigned q)
{
	wr(priv(d), R_QUEUE_NOTIFY, q);
}

static void
mmio_irq(void *arg)
{
	struct virtio_mmio *m = arg;
	uint32_t s = rd(m, R_INT_STATUS);

	if (!s)
		return;
	wr(m, R_INT_ACK, s);	/* before the rings: a later completion re-raises */
	if (s & 1)
		m->vdev.irq_fn(m->vdev.irq_arg);
}

static int
mm_setup_irq(struct virtio_dev *d, unsigned cpu)
{
	struct virtio_mmio *m = priv(d);

	cpu = irq_cpu_or_boot(cpu);
	d->irq_cpu = cpu;
	int vector = irq_register(mmio_irq, m, cpu);
	if (vector < 0)
		return vector;
	d->irq_vector = vector;
	d->irq_kind = "I/O APIC";
	int err = ioapic_route(m->gsi, (unsigned)vector, cpu, true, false);
	if (err)
		pr_warn("virtio: %s: no I/O APIC pin for GSI %u\n", d->where, m->gsi);
	return err;
}

/*
 * The line is level-triggered and stays asserted until mmio_irq()
 * acknowledges it, so an interrupt raised during the move is delivered
 * to the new core.
 */
static int
mm_move_irq(struct virtio_dev *d, unsigned cpu)
{
	return ioapic_set_cpu(priv(d)->gsi, cpu);
}

static const struct virtio_ops mmio_ops = {
	.get_features = mm_get_features,
	.set_features = mm_set_features,
	.get_status = mm_get_status,
	.set_status = mm_set_status,
	.config_read = mm_config_read,
	.queue_max = mm_queue_max,
	.queue_enable = mm_queue_enable,
	.notify = mm_notify,
	.setup_irq = mm_setup_irq,
	.move_irq = mm_move_irq,
};

/* Parses "SIZE@ADDR:IRQ[:ID]" (sizes with K/M suffixes, numbers in C syntax). */
static int
parse_number(const char **s, uint64_t *out, bool size)
{
	const char *p = *s;
	uint64_t v = 0;
	unsigned base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	const char *start = p;
	for (;; p++) {
		unsigned dgt;
		if (*p >= '0' && *p <= '9')
			dgt = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			dgt = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			dgt = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v >> 59)
			return -EINVAL;
		v = v * base + dgt;
	}
	if (p == start)
		return -EINVAL;
	if (size && (*p == 'K' || *p == 'k'))
		v <<= 10, p++;
	else if (size && (*p == 'M' || *p == 'm'))
		v <<= 20, p++;
	*out = v;
	*s = p;
	return 0;
}

int
virtio_mmio_option(const char *v)
{
	uint64_t size, addr, irq;

	if (!v || parse_number(&v, &size, true) || *v++ != '@' ||
	    parse_number(&v, &addr, false) || *v++ != ':' ||
	    parse_number(&v, &irq, false) || (*v && *v != ':'))
		return -EINVAL;
	if (size < 0x100 || size > (1u << 20) || addr + size > (4ULL << 30) ||
	    (addr & 0xFF) || irq > 255)
		return -EINVAL;
	if (ndecls == MMIO_DECL_MAX)
		return -ENOSPC;
	decls[ndecls++] = (struct mmio_decl){ addr, size, (uint32_t)irq };
	return 0;
}

static void
attach(uint64_t addr, uint64_t size, uint32_t gsi)
{
	uint64_t base = addr & ~0xFFFULL;

	if (vm_map_uncached(base, (addr + size - base + 0xFFF) & ~0xFFFULL))
		return;
	volatile uint8_t *regs = (volatile uint8_t *)(uintptr_t)addr;
	uint32_t magic = *(volatile uint32_t *)regs;
	uint32_t version = *(volatile uint32_t *)(regs + R_VERSION);
	uint32_t id = *(volatile uint32_t *)(regs + R_DEVICE_ID);
	if (magic != MAGIC_VALUE || id == 0)
		return;		/* an empty slot */
	if (version != 1 && version != 2) {
		pr_warn("virtio: mmio 0x%llx: version %u unknown\n",
			(unsigned long long)addr, version);
		return;
	}
	struct virtio_mmio *m = (struct virtio_mmio *)vm_alloc_pages(1);
	if (!m)
		return;
	m->regs = regs;
	m->version = version;
	m->gsi = gsi;
	struct virtio_dev *d = &m->vdev;
	d->ops = &mmio_ops;
	d->transport_priv = m;
	d->type = id;
	d->modern = version == 2;
	d->fixed_queue_size = false;
	d->transport = version == 2 ? "MMIO" : "legacy MMIO";
	const char hex[] = "0123456789abcdef";
	char *w = d->where;
	const char *pre = "mmio 0x";
	while (*pre)
		*w++ = *pre++;
	for (int sh = 28; sh >= 0; sh -= 4)
		*w++ = hex[(addr >> sh) & 15];
	*w = 0;
	virtio_attach(d);
}

/*
 * QEMU gives the first virtio-mmio -device the highest slot, so probing
 * from the top down names the first --disk vda.
 */
void
virtio_mmio_probe(void)
{
	for (unsigned i = 0; i < ndecls; i++)
		for (unsigned j = i + 1; j < ndecls; j++)
			if (decls[j].addr > decls[i].addr) {
				struct mmio_decl t = decls[i];
				decls[i] = decls[j];
				decls[j] = t;
			}
	for (unsigned i = 0; i < ndecls; i++)
		attach(decls[i].addr, decls[i].size, decls[i].gsi);
	if (ndecls || !acpi_present() || pci_present())
		return;
	uint32_t irq_base = ioapic_has_gsi_base(24) ? 24 : 16;
	unsigned slots = irq_base == 24 ? 24 : 8;
	for (unsigned n = slots; n-- > 0;)
		attach(MMIO_WINDOW + MMIO_SLOT * n, MMIO_SLOT, irq_base + n);
}
