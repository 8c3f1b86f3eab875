/*
 * virtio-console (virtio 1.x 5.3), port 0 only (no MULTIPORT): the
 * receive queue (0) and the transmit queue (1).  With the kernel option
 * console=hvc0 it becomes the console once probed: kernel messages and
 * /dev/console output go to it instead of the 16550 (which keeps what
 * was written before the probe, and everything if no virtio console is
 * found), and /dev/console reads come from it.
 *
 * Output is synchronous and polled: the caller's bytes (identity mapped,
 * so their address is their physical address) go to the device through
 * one descriptor and the caller spins until the device returns it, so a
 * message is out before the call returns, from any context, interrupts
 * on or off.  A device that does not return a buffer within a second is
 * given up and the 16550 becomes the console again.  Input: RX_BUFS
 * buffers stay posted on the receive queue; the queue's interrupt, on
 * the boot core unless dedicate=hvc0:N or toro_dedicate("hvc0", N)
 * moves it, copies what arrived into a ring and wakes readers.
 */
#include <errno.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "drivers/uart16550/uart16550.h"
#include "drivers/virtio/virtio.h"
#include "lib/dev/dedicate.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"
#include "lib/sched/futex.h"

#define RX_BUFS		8
#define RX_BUF_BYTES	128
#define RX_RING		2048		/* a power of two */

struct vcon {
	struct virtio_dev *vdev;
	struct virtq rxq, txq;
	struct spinlock rx_lock;	/* rxq and the ring: readers, interrupt */
	struct spinlock tx_lock;	/* txq: writers */
	uint32_t rx_head, rx_tail;	/* ring indices, free running */
	uint32_t rx_seq;		/* futex word: bumped when bytes arrive */
	bool broken;
	struct dedicated dedicated;	/* "hvc0" */
	uint8_t rx_buf[RX_BUFS][RX_BUF_BYTES];
	uint8_t ring[RX_RING];
};

static bool opt_console;	/* console=hvc0 */
static struct vcon *the_console;

int
virtio_console_option(const char *v)
{
	if (!v)
		return -EINVAL;
	if (v[0] == 'h' && v[1] == 'v' && v[2] == 'c' && v[3] == '0' && !v[4])
		opt_console = true;
	else if (v[0] == 't' && v[1] == 't' && v[2] == 'y' && v[3] == 'S' &&
		 v[4] == '0' && !v[5])
		opt_console = false;
	else
		return -EINVAL;
	return 0;
}

/*
 * Output is polled: asks the device for no interrupt on transmit
 * completions (the event index one behind, or the NO_INTERRUPT flag).
 */
static void
tx_quiet(struct virtq *q)
{
	q->avail->flags = VQ_AVAIL_F_NO_INTERRUPT;
	q->avail->ring[q->size] = (uint16_t)(q->last_used - 1);
}

/* Posts rx buffer i; with rx_lock held. */
static void
post_rx(struct vcon *c, unsigned i)
{
	struct vq_buf b = { (uint64_t)c->rx_buf[i], RX_BUF_BYTES, true };
	int head = vq_add_chain(&c->rxq, &b, 1, c->rx_buf[i]);

	if (head >= 0)
		vq_publish(&c->rxq, (uint16_t)head);
}

static void
vcon_interrupt(void *arg)
{
	struct vcon *c = arg;
	bool got = false, posted = false;
	void *ck;
	uint32_t len;

	spin_lock(&c->rx_lock);
	do {
		while ((ck = vq_get_used(&c->rxq, &len))) {
			uint8_t *p = ck;
			if (len > RX_BUF_BYTES)
				len = RX_BUF_BYTES;
			for (uint32_t i = 0; i < len; i++) {
				if (c->rx_head - c->rx_tail >= RX_RING)
					break;		/* full: drop */
				c->ring[c->rx_head++ % RX_RING] = p[i];
			}
			got = got || len;
			post_rx(c, (unsigned)((p - c->rx_buf[0]) / RX_BUF_BYTES));
			posted = true;
		}
	} while (vq_enable_interrupts(&c->rxq));
	if (posted)
		virtio_kick(c->vdev, 0, &c->rxq);
	if (got) {
		__atomic_fetch_add(&c->rx_seq, 1, __ATOMIC_RELEASE);
		futex_wake(&c->rx_seq, 1 << 30, ~0U);
	}
	spin_unlock(&c->rx_lock);
}

/* Moves the receive interrupt to cpu, then takes what may have arrived. */
static int
vcon_move(void *arg, unsigned cpu)
{
	struct vcon *c = arg;
	int err = virtio_move_irq(c->vdev, cpu, c->dedicated.name);

	if (!err)
		vcon_interrupt(c);
	return err;
}

static void
vcon_give_up(struct vcon *c)
{
	c->broken = true;
	console_set_sink(uart_console_write);
	console_set_reader(NULL);
	pr_err("virtio-console: %s: device stopped answering; console back on the 16550\n",
	       c->vdev->where);
}

static void
vcon_write(const char *buf, size_t len)
{
	struct vcon *c = the_console;

	if (!c || c->broken || !len)
		return;
	uint64_t deadline = rdtsc() + tsc_hz();
	unsigned long flags = irq_save();
	spin_lock(&c->tx_lock);
	struct vq_buf b = { (uint64_t)buf, (uint32_t)len, false };
	int head = vq_add_chain(&c->txq, &b, 1, (void *)buf);
	bool ok = head >= 0;
	if (ok) {
		vq_publish(&c->txq, (uint16_t)head);
		virtio_kick(c->vdev, 1, &c->txq);
		while (!vq_get_used(&c->txq, NULL)) {
			if (rdtsc() > deadline) {
				ok = false;
				break;
			}
			__builtin_ia32_pause();
		}
		tx_quiet(&c->txq);
	}
	spin_unlock(&c->tx_lock);
	if (!ok)
		vcon_give_up(c);
	irq_restore(flags);
	if (!ok)
		uart_console_write(buf, len);
}

/* /dev/console input: blocks until at least one byte is there. */
static long
vcon_read(char *buf, size_t len)
{
	struct vcon *c = the_console;
	size_t n = 0;

	if (!c || !len)
		return 0;
	unsigned long flags = irq_save();
	for (;;) {
		spin_lock(&c->rx_lock);
		while (n < len && c->rx_tail != c->rx_head)
			buf[n++] = (char)c->ring[c->rx_tail++ % RX_RING];
		uint32_t seen = __atomic_load_n(&c->rx_seq, __ATOMIC_ACQUIRE);
		spin_unlock(&c->rx_lock);
		if (n || c->broken)
			break;
		futex_wait(&c->rx_seq, seen, ~0U, 0);
	}
	irq_restore(flags);
	return (long)n;
}

int
virtio_console_attach(struct virtio_dev *d)
{
	if (the_console) {
		pr_info("virtio-console: %s: only the first console is used\n", d->where);
		d->ops->set_status(d, 0);
		return 0;
	}
	uint64_t pages = (sizeof(struct vcon) + 4095) / 4096;
	struct vcon *c = (struct vcon *)vm_alloc_pages(pages);
	if (!c)
		return -ENOMEM;
	c->vdev = d;
	int err = virtio_negotiate(d, 0);
	if (!err) {
		d->irq_fn = vcon_interrupt;
		d->irq_arg = c;
		err = d->ops->setup_irq(d, 0);
	}
	if (!err)
		err = virtio_queue_setup(d, 0, &c->rxq, 64);
	if (!err)
		err = virtio_queue_setup(d, 1, &c->txq, 64);
	if (err) {
		virtio_fail(d);
		vm_free_pages((uint64_t)c, pages);
		return err;
	}
	/* Requests always fit: no indirect tables needed. */
	c->rxq.indirect = c->txq.indirect = false;
	tx_quiet(&c->txq);
	spin_lock(&c->rx_lock);
	for (unsigned i = 0; i < RX_BUFS; i++)
		post_rx(c, i);
	spin_unlock(&c->rx_lock);
	virtio_driver_ok(d);
	spin_lock(&c->rx_lock);
	virtio_kick(d, 0, &c->rxq);
	spin_unlock(&c->rx_lock);
	the_console = c;
	pr_info("virtio-console: %s (%s, %s to cpu %u)%s\n", d->where,
		d->transport, d->irq_kind ? d->irq_kind : "?", d->irq_cpu,
		opt_console ? ": now the console" : "");
	if (opt_console) {
		(void)tsc_hz();	/* calibrated (and logged) before it is the sink */
		console_set_sink(vcon_write);
		console_set_reader(vcon_read);
	}
	kstrlcpy(c->dedicated.name, "hvc0", sizeof(c->dedicated.name));
	c->dedicated.move = vcon_move;
	c->dedicated.arg = c;
	c->dedicated.cpu = d->irq_cpu;
	if (dedicate_register(&c->dedicated))
		pr_warn("hvc0: its interrupt stays on cpu %u\n", d->irq_cpu);
	return 0;
}

void
virtio_console_check(void)
{
	if (opt_console && !the_console)
		pr_warn("console=hvc0: no virtio console found; the console stays on the 16550\n");
}
