/*
 * virtio-fs (virtio 1.x 5.11): the device and the FUSE session over it.
 * Each device is known by its tag, the source a "virtiofs" mount names
 * (virtio-fs-node.c).  Requests go on the one request queue (queue 1),
 * FORGET on the high-priority queue (0); each request's header,
 * arguments and reply buffers are descriptors of their own, and file
 * data moves straight between the caller's buffer and the device
 * (memory is identity mapped).  The caller futex-waits on its request's
 * completion word, as in virtio-blk.c; every reply is checked by
 * lib/fs/fuse.c, and a malformed one is -EIO.  A request that times out
 * resets the device, and every request after it fails with -EIO.  Not
 * the file system: nodes, handles and the mount are virtio-fs-node.c,
 * the vnode operations virtio-fs-ops.c.
 */
#include <errno.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "drivers/virtio/virtio-fs.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"
#include "lib/sched/futex.h"

#define CFG_TAG			0
#define QUEUE_HIPRIO		0
#define QUEUE_REQUEST		1
#define QUEUE_SIZE		128
#define DEVICES_MAX		8
#define TIMEOUT_S		120

struct viofs_req {
	struct vq_desc table[FUSE_SEGS_MAX];	/* indirect descriptors */
	uint32_t written;
	uint32_t done;				/* futex word */
};

static struct viofs *devices[DEVICES_MAX];
static unsigned ndevices;

/* ------------------------------------------------------------ requests */

/* Completes what the device has finished on both queues; with d->lock. */
static void
reap(struct viofs *d)
{
	void *c;
	uint32_t len;

	for (unsigned q = 0; q < 2; q++)
		do {
			while ((c = vq_get_used(&d->vq[q], &len))) {
				struct viofs_req *r = c;
				r->written = len;
				__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
				futex_wake(&r->done, 1, ~0U);
			}
		} while (vq_enable_interrupts(&d->vq[q]));
	if (__atomic_load_n(&d->space_waiters, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&d->space, 1, __ATOMIC_RELEASE);
		futex_wake(&d->space, 1 << 30, ~0U);
	}
}

static void
viofs_interrupt(void *arg)
{
	struct viofs *d = arg;

	spin_lock(&d->lock);
	if (!d->broken)
		reap(d);
	spin_unlock(&d->lock);
}

/* toro_dedicate("virtiofs:TAG", cpu): move, then reap what the old core
 * may not have seen. */
static int
viofs_move(void *arg, unsigned cpu)
{
	struct viofs *d = arg;
	int err = virtio_move_irq(d->vdev, cpu, d->dedicated.name);

	if (!err)
		viofs_interrupt(d);
	return err;
}

static void
viofs_break(struct viofs *d, const char *why)
{
	spin_lock(&d->lock);
	if (!d->broken) {
		d->broken = true;
		virtio_fail(d->vdev);
		pr_err("virtio-fs %s: %s; device reset, every request now fails with EIO\n",
		       d->tag, why);
	}
	spin_unlock(&d->lock);
	__atomic_fetch_add(&d->space, 1, __ATOMIC_RELEASE);
	futex_wake(&d->space, 1 << 30, ~0U);
}

static int
submit(struct viofs *d, unsigned q, struct viofs_req *r,
       const struct vq_buf *bufs, unsigned n)
{
	for (;;) {
		spin_lock(&d->lock);
		if (d->broken) {
			spin_unlock(&d->lock);
			return -EIO;
		}
		struct virtq *vq = &d->vq[q];
		int head = vq->indirect
			? vq_add_indirect(vq, r->table, (uint64_t)r->table, bufs, n, r)
			: vq_add_chain(vq, bufs, n, r);
		if (head >= 0) {
			vq_publish(vq, (uint16_t)head);
			virtio_kick(d->vdev, q, vq);
			spin_unlock(&d->lock);
			return 0;
		}
		uint32_t seen = __atomic_load_n(&d->space, __ATOMIC_ACQUIRE);
		__atomic_fetch_add(&d->space_waiters, 1, __ATOMIC_ACQ_REL);
		spin_unlock(&d->lock);
		futex_wait(&d->space, seen, ~0U, 0);
		__atomic_fetch_sub(&d->space_waiters, 1, __ATOMIC_ACQ_REL);
	}
}

static int
wait_done(struct viofs *d, struct viofs_req *r)
{
	uint64_t deadline = rdtsc() + tsc_hz() * TIMEOUT_S;

	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		if (futex_wait(&r->done, 0, ~0U, deadline) != -ETIMEDOUT)
			continue;
		spin_lock(&d->lock);
		if (!d->broken)
			reap(d);
		spin_unlock(&d->lock);
		if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE))
			break;
		viofs_break(d, "request timed out");
		return -EIO;
	}
	return 0;
}

/*
 * Sends c and waits for its reply: the reply's length after the header,
 * or a negative errno (the server's, or -EIO).
 */
long
viofs_call(struct viofs *d, struct fuse_call *c)
{
	struct fuse_seg seg[FUSE_SEGS_MAX];
	struct vq_buf bufs[FUSE_SEGS_MAX];
	struct viofs_req r = { .done = 0 };

	c->in.unique = __atomic_fetch_add(&d->next_unique, 1, __ATOMIC_RELAXED);
	unsigned n = fuse_call_segs(c, seg);
	for (unsigned i = 0; i < n; i++)
		bufs[i] = (struct vq_buf){ (uint64_t)seg[i].base, seg[i].len,
					   seg[i].device_writes };
	int err = submit(d, c->no_reply ? QUEUE_HIPRIO : QUEUE_REQUEST, &r, bufs, n);
	if (!err)
		err = wait_done(d, &r);
	if (err)
		return err;
	long got = fuse_call_check(c, r.written);
	if (got == -EIO)
		pr_warn("virtio-fs %s: malformed reply to opcode %u (%u bytes, header len %u error %d)\n",
			d->tag, c->in.opcode, r.written, c->out.len, c->out.error);
	return got;
}

void
viofs_forget(struct viofs *d, uint64_t nodeid, uint64_t nlookup)
{
	struct fuse_call c;
	struct fuse_forget_in in = { .nlookup = nlookup };

	if (nodeid == FUSE_ROOT_ID || !nlookup)
		return;
	fuse_call_init(&c, FUSE_FORGET, nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	viofs_call(d, &c);
}

int
viofs_session_init(struct viofs *d)
{
	struct fuse_call c;
	struct fuse_init_in in = {
		.major = FUSE_KERNEL_VERSION,
		.minor = FUSE_KERNEL_MINOR_VERSION,
		.flags = FUSE_BIG_WRITES | FUSE_MAX_PAGES,
	};
	struct fuse_init_out out;
	int err = 0;

	kmutex_lock(&d->init_lock);
	if (!d->session) {
		fuse_call_init(&c, FUSE_INIT, 0, 0);
		fuse_call_arg(&c, &in, sizeof(in));
		c.reply = &out;
		c.reply_len = sizeof(out);
		long got = viofs_call(d, &c);
		err = got < 0 ? (int)got : fuse_init_check(&out, (uint32_t)got, &d->params);
		if (!err) {
			d->session = true;
			pr_debug("virtio-fs %s: FUSE %u.%u, %u bytes per read, %u per write\n",
				 d->tag, out.major, out.minor, d->params.max_read,
				 d->params.max_write);
		} else {
			pr_err("virtio-fs %s: FUSE INIT failed (error %d)\n", d->tag, -err);
		}
	}
	kmutex_unlock(&d->init_lock);
	return err;
}

/* ------------------------------------------------------------ device */

struct viofs *
viofs_find(const char *tag)
{
	for (unsigned i = 0; i < ndevices; i++)
		if (!kstrcmp(devices[i]->tag, tag))
			return devices[i];
	return NULL;
}

int
virtio_fs_attach(struct virtio_dev *vd)
{
	if (ndevices == DEVICES_MAX)
		return -ENOSPC;
	struct viofs *d = (struct viofs *)vm_alloc_pages(1);
	_Static_assert(sizeof(struct viofs) <= 4096, "one page");
	if (!d)
		return -ENOMEM;
	d->vdev = vd;
	d->next_unique = 1;
	for (unsigned i = 0; i < VIOFS_TAG_LEN; i++)
		d->tag[i] = (char)vd->ops->config_read(vd, CFG_TAG + i, 1);
	d->tag[VIOFS_TAG_LEN] = 0;
	int err = d->tag[0] ? 0 : -EINVAL;
	if (!err && !vd->modern) {
		pr_warn("virtio-fs %s: legacy transport; virtio-fs needs virtio 1.x\n",
			vd->where);
		err = -ENODEV;
	}
	if (!err)
		err = virtio_negotiate(vd, 0);
	if (!err) {
		vd->irq_fn = viofs_interrupt;
		vd->irq_arg = d;
		err = vd->ops->setup_irq(vd, 0);
	}
	if (!err)
		err = virtio_queue_setup(vd, QUEUE_HIPRIO, &d->vq[0], QUEUE_SIZE);
	if (!err)
		err = virtio_queue_setup(vd, QUEUE_REQUEST, &d->vq[1], QUEUE_SIZE);
	if (err) {
		virtio_fail(vd);
		vm_free_pages((uint64_t)d, 1);
		return err;
	}
	virtio_driver_ok(vd);
	if (!ndevices)
		vfs_register_fs(&virtiofs_type);
	devices[ndevices++] = d;
	struct dedicated *dd = &d->dedicated;
	kstrlcpy(dd->name, "virtiofs:", sizeof(dd->name));
	kstrlcpy(dd->name + 9, d->tag, sizeof(dd->name) - 9);
	dd->move = viofs_move;
	dd->arg = d;
	dd->cpu = vd->irq_cpu;
	if (dedicate_register(dd))
		pr_warn("virtio-fs %s: its interrupt stays on cpu %u\n", d->tag,
			vd->irq_cpu);
	pr_debug("virtio-fs: tag \"%s\", %s %s, %s\n", d->tag, vd->transport,
		 vd->where, vd->irq_kind ? vd->irq_kind : "?");
	return 0;
}
