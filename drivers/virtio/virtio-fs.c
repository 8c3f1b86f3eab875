/*
 * virtio-fs (virtio 1.x 5.11): a FUSE client over a virtio device, mounted
 * through the VFS as file-system type "virtiofs" with the device's tag as
 * the source: mount("TAG", "/srv", "virtiofs", 0, NULL), or the kernel
 * option mount=TAG:/srv:virtiofs.  Requests go on the one request queue
 * (queue 1), FORGET on the high-priority queue (0); each request's
 * header, arguments and reply buffers are descriptors of their own, and
 * file data moves straight between the caller's buffer and the device
 * (memory is identity mapped).  The caller futex-waits on its request's
 * completion word, as in virtio-blk.c; every reply is checked by
 * lib/fs/fuse.c, and a malformed one is -EIO.
 *
 * A vnode is a FUSE node: nodes are kept in a table per mount so that a
 * second lookup of a node finds the same vnode (mounts on it, rename
 * checks); each successful LOOKUP, CREATE or MKDIR reply counts one
 * lookup, and the vnode's release FORGETs them all.  A file handle is
 * opened on first read or write and released with the vnode; a
 * directory's handle likewise, with its last READDIR reply kept for the
 * next entries.  Not a cache of data or attributes (virtiofsd runs with
 * cache=none), and no DAX window.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "drivers/virtio/virtio.h"
#include "lib/fs/fuse.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"
#include "lib/mm/vm.h"
#include "lib/sched/futex.h"
#include "lib/sched/kmutex.h"

#define CFG_TAG			0
#define TAG_LEN			36
#define QUEUE_HIPRIO		0
#define QUEUE_REQUEST		1
#define QUEUE_SIZE		128
#define DEVICES_MAX		8
#define HASH_SIZE		64
#define DIRBUF_LEN		4096
#define TIMEOUT_S		120

struct viofs_req {
	struct vq_desc table[FUSE_SEGS_MAX];	/* indirect descriptors */
	uint32_t written;
	uint32_t done;				/* futex word */
};

struct viofs_mount;

struct viofs {
	struct virtio_dev *vdev;
	struct virtq vq[2];
	struct spinlock lock;		/* both queues, from any core and the interrupt */
	uint32_t space;			/* futex word: bumped when descriptors free up */
	uint32_t space_waiters;
	bool broken;
	uint64_t next_unique;
	struct kmutex init_lock;
	bool session;			/* INIT answered */
	struct fuse_session_params params;
	struct viofs_mount *mounted;
	char tag[TAG_LEN + 1];
};

struct viofs_node {
	struct vnode vn;
	struct viofs_node *hnext;
	uint64_t nodeid;
	uint64_t nlookup;		/* under the mount's table lock */
	struct kmutex lock;		/* fh, appends, the directory buffer */
	uint64_t fh;
	bool has_fh, fh_writable;
	void *dbuf;			/* last READDIR reply */
	uint32_t dlen;
	uint64_t dstart;		/* the offset it was read from */
	bool dvalid;
};

struct viofs_mount {
	struct viofs *dev;
	struct spinlock table_lock;
	struct viofs_node *hash[HASH_SIZE];
};

static struct viofs *devices[DEVICES_MAX];
static unsigned ndevices;
static const struct vnode_ops viofs_ops;
extern const struct fs_type virtiofs_type;

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
static long
call(struct viofs *d, struct fuse_call *c)
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

static void
forget(struct viofs *d, uint64_t nodeid, uint64_t nlookup)
{
	struct fuse_call c;
	struct fuse_forget_in in = { .nlookup = nlookup };

	if (nodeid == FUSE_ROOT_ID || !nlookup)
		return;
	fuse_call_init(&c, FUSE_FORGET, nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	call(d, &c);
}

static int
session_init(struct viofs *d)
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
		long got = call(d, &c);
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

/* ------------------------------------------------------------ nodes */

static struct viofs_node *
N(struct vnode *vn)
{
	return (struct viofs_node *)vn;
}

static struct viofs_mount *
M(struct vnode *vn)
{
	return vn->mnt->priv;
}

static struct viofs *
DEV(struct vnode *vn)
{
	return M(vn)->dev;
}

/*
 * The vnode for nodeid, which the server has just counted one more
 * lookup of: an existing one (referenced) or a new one.  A vnode whose
 * last reference is going away is not revived; a new one takes its place
 * and each forgets its own lookups.  On failure the lookup is forgotten.
 */
static int
node_get(struct viofs_mount *m, struct mount *mnt, uint64_t nodeid,
	 mode_t mode, struct viofs_node **out)
{
	struct viofs_node **b = &m->hash[nodeid % HASH_SIZE];

	spin_lock(&m->table_lock);
	for (struct viofs_node *n = *b; n; n = n->hnext) {
		if (n->nodeid != nodeid)
			continue;
		int refs = __atomic_load_n(&n->vn.refs, __ATOMIC_RELAXED);
		while (refs > 0 && !__atomic_compare_exchange_n(&n->vn.refs, &refs,
				refs + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			;
		if (refs > 0) {
			n->nlookup++;
			spin_unlock(&m->table_lock);
			*out = n;
			return 0;
		}
	}
	spin_unlock(&m->table_lock);
	struct viofs_node *n = kzalloc(sizeof(*n));
	if (!n) {
		forget(m->dev, nodeid, 1);
		return -ENOMEM;
	}
	vn_init(&n->vn, &viofs_ops, mnt, mode, NULL);
	n->nodeid = nodeid;
	n->nlookup = 1;
	spin_lock(&m->table_lock);
	n->hnext = *b;
	*b = n;
	spin_unlock(&m->table_lock);
	*out = n;
	return 0;
}

static void
node_unhash(struct viofs_mount *m, struct viofs_node *n)
{
	spin_lock(&m->table_lock);
	for (struct viofs_node **p = &m->hash[n->nodeid % HASH_SIZE]; *p; p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			break;
		}
	spin_unlock(&m->table_lock);
}

static int
node_from_entry(struct vnode *dir, const struct fuse_entry_out *e,
		struct viofs_node **out)
{
	int err = fuse_entry_check(e);

	if (err) {
		pr_warn("virtio-fs %s: bad node in a reply (nodeid %llu, mode 0%o)\n",
			DEV(dir)->tag, (unsigned long long)e->nodeid, e->attr.mode);
		if (e->nodeid)
			forget(DEV(dir), e->nodeid, 1);
		return err;
	}
	return node_get(M(dir), dir->mnt, e->nodeid, e->attr.mode, out);
}

static void
dir_changed(struct vnode *dir)
{
	struct viofs_node *n = N(dir);

	kmutex_lock(&n->lock);
	n->dvalid = false;
	kmutex_unlock(&n->lock);
}

static long
open_call(struct viofs_node *n, uint32_t flags, struct fuse_open_out *out)
{
	struct fuse_call c;
	struct fuse_open_in in = { .flags = flags };

	fuse_call_init(&c, n->vn.type == S_IFDIR ? FUSE_OPENDIR : FUSE_OPEN,
		       n->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	c.reply = out;
	c.reply_len = sizeof(*out);
	return call(DEV(&n->vn), &c);
}

static void
release_call(struct viofs_node *n, uint64_t fh)
{
	struct fuse_call c;
	struct fuse_release_in in = { .fh = fh };

	fuse_call_init(&c, n->vn.type == S_IFDIR ? FUSE_RELEASEDIR : FUSE_RELEASE,
		       n->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	call(DEV(&n->vn), &c);
}

/*
 * Opens n's handle if it has none, or only a read-only one and want_write:
 * read-write when the server allows it (one handle serves every reader
 * and writer), else read-only for reading.
 */
static int
node_open(struct viofs_node *n, bool want_write)
{
	struct fuse_open_out out;
	bool writable = false;
	long got;

	kmutex_lock(&n->lock);
	if (n->has_fh && (n->fh_writable || !want_write)) {
		kmutex_unlock(&n->lock);
		return 0;
	}
	if (n->vn.type == S_IFDIR) {
		got = open_call(n, O_RDONLY | O_DIRECTORY, &out);
	} else {
		got = open_call(n, O_RDWR, &out);
		writable = got >= 0;
		if (got < 0 && !want_write &&
		    (got == -EACCES || got == -EROFS || got == -EPERM))
			got = open_call(n, O_RDONLY, &out);
	}
	if (got >= 0) {
		if (n->has_fh)
			release_call(n, n->fh);
		n->fh = out.fh;
		n->has_fh = true;
		n->fh_writable = writable;
	}
	kmutex_unlock(&n->lock);
	return got < 0 ? (int)got : 0;
}

/* ------------------------------------------------------------ vnode ops */

static int
viofs_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	struct fuse_call c;
	struct fuse_entry_out e;
	struct viofs_node *n;

	if (len == 2 && name[0] == '.' && name[1] == '.' &&
	    N(dir)->nodeid == FUSE_ROOT_ID) {
		*out = vn_ref(dir);
		return 0;
	}
	fuse_call_init(&c, FUSE_LOOKUP, N(dir)->nodeid, 0);
	if (!fuse_call_name(&c, name, len))
		return -ENAMETOOLONG;
	c.reply = &e;
	c.reply_len = sizeof(e);
	long got = call(DEV(dir), &c);
	if (got < 0)
		return (int)got;
	if (!e.nodeid)		/* a negative entry */
		return -ENOENT;
	int err = node_from_entry(dir, &e, &n);
	if (!err)
		*out = &n->vn;
	return err;
}

static int
viofs_create(struct vnode *dir, const char *name, size_t len, mode_t mode,
	     struct vnode **out)
{
	struct viofs *d = DEV(dir);
	struct fuse_call c;
	struct fuse_create_out co;
	struct fuse_create_in cin = { .flags = O_RDWR | O_CREAT | O_EXCL,
				      .mode = S_IFREG | (mode & 07777) };
	struct fuse_mkdir_in min = { .mode = mode & 07777 };
	struct viofs_node *n;
	bool isdir = S_ISDIR(mode);

	if (!isdir && !S_ISREG(mode))
		return -EPERM;
	fuse_call_init(&c, isdir ? FUSE_MKDIR : FUSE_CREATE, N(dir)->nodeid, 0);
	if (isdir)
		fuse_call_arg(&c, &min, sizeof(min));
	else
		fuse_call_arg(&c, &cin, sizeof(cin));
	if (!fuse_call_name(&c, name, len))
		return -ENAMETOOLONG;
	c.reply = &co;
	c.reply_len = isdir ? sizeof(co.entry) : sizeof(co);
	long got = call(d, &c);
	if (got < 0)
		return (int)got;
	dir_changed(dir);
	int err = node_from_entry(dir, &co.entry, &n);
	if (err) {
		if (!isdir) {
			struct fuse_release_in rin = { .fh = co.open.fh };
			fuse_call_init(&c, FUSE_RELEASE, co.entry.nodeid, 0);
			fuse_call_arg(&c, &rin, sizeof(rin));
			call(d, &c);
		}
		return err;
	}
	if (!isdir) {
		kmutex_lock(&n->lock);
		bool keep = !n->has_fh;
		if (keep) {
			n->fh = co.open.fh;
			n->has_fh = n->fh_writable = true;
		}
		kmutex_unlock(&n->lock);
		if (!keep)
			release_call(n, co.open.fh);
	}
	*out = &n->vn;
	return 0;
}

static int
viofs_symlink(struct vnode *dir, const char *name, size_t len, const char *target)
{
	struct fuse_call c;
	struct fuse_entry_out e;
	struct viofs_node *n;
	size_t tlen = kstrlen(target);

	if (tlen > 4095)
		return -ENAMETOOLONG;
	fuse_call_init(&c, FUSE_SYMLINK, N(dir)->nodeid, 0);
	if (!fuse_call_name(&c, name, len))
		return -ENAMETOOLONG;
	fuse_call_arg(&c, target, (uint32_t)tlen + 1);
	c.reply = &e;
	c.reply_len = sizeof(e);
	long got = call(DEV(dir), &c);
	if (got < 0)
		return (int)got;
	dir_changed(dir);
	int err = node_from_entry(dir, &e, &n);
	if (!err)
		vn_put(&n->vn);
	return err;
}

static int
name_op(struct vnode *dir, uint32_t opcode, const char *name, size_t len)
{
	struct fuse_call c;

	fuse_call_init(&c, opcode, N(dir)->nodeid, 0);
	if (!fuse_call_name(&c, name, len))
		return -ENAMETOOLONG;
	long got = call(DEV(dir), &c);
	dir_changed(dir);
	return got < 0 ? (int)got : 0;
}

static int
viofs_unlink(struct vnode *dir, const char *name, size_t len)
{
	return name_op(dir, FUSE_UNLINK, name, len);
}

static int
viofs_rmdir(struct vnode *dir, const char *name, size_t len)
{
	return name_op(dir, FUSE_RMDIR, name, len);
}

static int
viofs_rename(struct vnode *odir, const char *oname, size_t olen,
	     struct vnode *ndir, const char *nname, size_t nlen)
{
	struct fuse_call c;
	struct fuse_rename_in in = { .newdir = N(ndir)->nodeid };

	fuse_call_init(&c, FUSE_RENAME, N(odir)->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	if (!fuse_call_name(&c, oname, olen) || !fuse_call_name(&c, nname, nlen))
		return -ENAMETOOLONG;
	long got = call(DEV(odir), &c);
	dir_changed(odir);
	if (ndir != odir)
		dir_changed(ndir);
	return got < 0 ? (int)got : 0;
}

static bool
buffer_ok(const void *buf, size_t len)
{
	return len == 0 || (buf && vm_range_mapped((uint64_t)buf, len));
}

static ssize_t
viofs_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	struct viofs_node *n = N(vn);
	struct viofs *d = DEV(vn);
	size_t done = 0;

	if (vn->type == S_IFDIR)
		return -EISDIR;
	if (!buffer_ok(buf, len))
		return -EFAULT;
	int err = node_open(n, false);
	if (err)
		return err;
	while (done < len) {
		struct fuse_call c;
		uint32_t size = len - done < d->params.max_read
					? (uint32_t)(len - done) : d->params.max_read;
		struct fuse_io_in in = { .fh = n->fh, .offset = (uint64_t)off + done,
					 .size = size };
		fuse_call_init(&c, FUSE_READ, n->nodeid, 0);
		fuse_call_arg(&c, &in, sizeof(in));
		c.data = (char *)buf + done;
		c.data_len = size;
		long got = call(d, &c);
		if (got < 0)
			return done ? (ssize_t)done : got;
		done += (size_t)got;
		if ((uint32_t)got < size)
			break;		/* the end of the file */
	}
	return (ssize_t)done;
}

static long
file_size(struct viofs_node *n, uint64_t *size)
{
	struct fuse_call c;
	struct fuse_getattr_in in = { 0 };
	struct fuse_attr_out out;

	fuse_call_init(&c, FUSE_GETATTR, n->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	c.reply = &out;
	c.reply_len = sizeof(out);
	long got = call(DEV(&n->vn), &c);
	if (got < 0)
		return got;
	if (fuse_attr_check(&out.attr))
		return -EIO;
	*size = out.attr.size;
	return 0;
}

static ssize_t
viofs_write(struct vnode *vn, const void *buf, size_t len, off_t *pos, bool append)
{
	struct viofs_node *n = N(vn);
	struct viofs *d = DEV(vn);
	size_t done = 0;
	long err = 0;

	if (vn->type == S_IFDIR)
		return -EISDIR;
	if (!buffer_ok(buf, len))
		return -EFAULT;
	if ((err = node_open(n, true)))
		return err;
	if (append) {		/* atomic against this client's other appends */
		kmutex_lock(&n->lock);
		uint64_t size;
		if ((err = file_size(n, &size)))
			goto out;
		*pos = (off_t)size;
	}
	if ((uint64_t)*pos + len > (uint64_t)INT64_MAX) {
		err = -EFBIG;
		goto out;
	}
	while (done < len) {
		struct fuse_call c;
		struct fuse_write_out out;
		uint32_t size = len - done < d->params.max_write
					? (uint32_t)(len - done) : d->params.max_write;
		struct fuse_io_in in = { .fh = n->fh, .offset = (uint64_t)*pos + done,
					 .size = size };
		fuse_call_init(&c, FUSE_WRITE, n->nodeid, 0);
		fuse_call_arg(&c, &in, sizeof(in));
		fuse_call_arg(&c, (const char *)buf + done, size);
		c.reply = &out;
		c.reply_len = sizeof(out);
		long got = call(d, &c);
		if (got < 0) {
			err = got;
			break;
		}
		if (out.size > size) {
			err = -EIO;
			break;
		}
		done += out.size;
		if (out.size < size)
			break;
	}
out:
	if (append)
		kmutex_unlock(&n->lock);
	*pos += (off_t)done;
	return done ? (ssize_t)done : err;
}

static int
setattr(struct viofs_node *n, struct fuse_setattr_in *in, struct fuse_attr_out *out)
{
	struct fuse_call c;

	fuse_call_init(&c, FUSE_SETATTR, n->nodeid, 0);
	fuse_call_arg(&c, in, sizeof(*in));
	c.reply = out;
	c.reply_len = sizeof(*out);
	long got = call(DEV(&n->vn), &c);
	return got < 0 ? (int)got : 0;
}

static int
viofs_truncate(struct vnode *vn, off_t size)
{
	struct viofs_node *n = N(vn);
	struct fuse_setattr_in in = { .valid = FATTR_SIZE, .size = (uint64_t)size };
	struct fuse_attr_out out;

	if (vn->type == S_IFDIR)
		return -EISDIR;
	kmutex_lock(&n->lock);
	if (n->has_fh && n->fh_writable) {
		in.valid |= FATTR_FH;
		in.fh = n->fh;
	}
	kmutex_unlock(&n->lock);
	return setattr(n, &in, &out);
}

static int
viofs_getattr(struct vnode *vn, struct stat *st)
{
	struct fuse_call c;
	struct fuse_getattr_in in = { 0 };
	struct fuse_attr_out out;

	fuse_call_init(&c, FUSE_GETATTR, N(vn)->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	c.reply = &out;
	c.reply_len = sizeof(out);
	long got = call(DEV(vn), &c);
	if (got < 0)
		return (int)got;
	if (fuse_attr_check(&out.attr))
		return -EIO;
	fuse_attr_to_stat(&out.attr, st);
	return 0;
}

/* Reads the directory's records from offset into its buffer; with n->lock. */
static int
dir_fill(struct viofs_node *n, uint64_t offset)
{
	struct fuse_call c;
	struct fuse_io_in in = { .fh = n->fh, .offset = offset, .size = DIRBUF_LEN };

	if (!n->dbuf && !(n->dbuf = kmalloc(DIRBUF_LEN)))
		return -ENOMEM;
	n->dvalid = false;
	fuse_call_init(&c, FUSE_READDIR, n->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	c.data = n->dbuf;
	c.data_len = DIRBUF_LEN;
	long got = call(DEV(&n->vn), &c);
	if (got < 0)
		return (int)got;
	n->dlen = (uint32_t)got;
	n->dstart = offset;
	n->dvalid = true;
	return 0;
}

/*
 * The record following the one whose next offset is cookie, in the
 * buffer: 1 found, 0 the buffer ends first, -EIO malformed.
 */
static int
dir_find(struct viofs_node *n, uint64_t cookie, struct fuse_dirent_view *v)
{
	uint64_t at = n->dstart;
	size_t pos = 0;
	int r;

	while ((r = fuse_dirent_next(n->dbuf, n->dlen, &pos, false, v)) == 1) {
		if (at == cookie)
			return 1;
		at = v->off;
	}
	return r;
}

static int
viofs_readdir(struct vnode *dir, uint64_t *cookie, struct vfs_dirent *ent)
{
	struct viofs_node *n = N(dir);
	struct fuse_dirent_view v;
	int r;

	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	if ((r = node_open(n, false)))
		return r;
	kmutex_lock(&n->lock);
	r = 0;
	if (!n->dvalid || !*cookie || (r = dir_find(n, *cookie, &v)) == 0) {
		if (!(r = dir_fill(n, *cookie)))
			r = n->dlen ? dir_find(n, *cookie, &v) : 0;
		if (!r && n->dlen)
			r = -EIO;	/* records, but not the one asked for */
	}
	if (r == 1 && v.off == *cookie)
		r = -EIO;	/* an offset that does not move on would loop */
	if (r == 1) {
		ent->ino = v.ino;
		ent->type = (unsigned char)v.type;
		memcpy(ent->name, v.name, v.namelen);
		ent->name[v.namelen] = 0;
		*cookie = v.off;
	}
	if (r < 0) {
		n->dvalid = false;
		if (r == -EIO)
			pr_warn("virtio-fs %s: malformed directory records\n",
				DEV(dir)->tag);
	}
	kmutex_unlock(&n->lock);
	return r;
}

static ssize_t
viofs_readlink(struct vnode *vn, char *buf, size_t len)
{
	struct fuse_call c;

	fuse_call_init(&c, FUSE_READLINK, N(vn)->nodeid, 0);
	c.data = buf;
	c.data_len = len > 4096 ? 4096 : (uint32_t)len;
	long got = call(DEV(vn), &c);
	if (got >= 0 && memchr(buf, 0, (size_t)got))
		return -EIO;
	return got;
}

static int
viofs_fsync(struct vnode *vn)
{
	struct viofs_node *n = N(vn);
	struct fuse_call c;
	struct fuse_fsync_in in = { 0 };
	long got = 0;

	if (vn->type == S_IFDIR)
		return 0;
	kmutex_lock(&n->lock);
	if (n->has_fh && n->fh_writable) {
		in.fh = n->fh;
		fuse_call_init(&c, FUSE_FSYNC, n->nodeid, 0);
		fuse_call_arg(&c, &in, sizeof(in));
		got = call(DEV(vn), &c);
	}
	kmutex_unlock(&n->lock);
	return got < 0 ? (int)got : 0;
}

static void
viofs_release(struct vnode *vn)
{
	struct viofs_node *n = N(vn);
	struct viofs_mount *m = M(vn);
	struct viofs *d = m->dev;
	struct fuse_call c;

	node_unhash(m, n);
	if (n->has_fh) {
		bool dir = vn->type == S_IFDIR;
		if (!dir && n->fh_writable) {
			struct fuse_flush_in fin = { .fh = n->fh };
			fuse_call_init(&c, FUSE_FLUSH, n->nodeid, 0);
			fuse_call_arg(&c, &fin, sizeof(fin));
			call(d, &c);
		}
		release_call(n, n->fh);
	}
	forget(d, n->nodeid, n->nlookup);
	if (n->nodeid == FUSE_ROOT_ID && vn == vn->mnt->root) {
		/* The unmount's last step (vfs_umount puts the root last). */
		d->mounted = NULL;
		kfree(m);
	}
	kfree(n->dbuf);
	kfree(n);
}

static const struct vnode_ops viofs_ops = {
	.lookup = viofs_lookup,
	.create = viofs_create,
	.symlink = viofs_symlink,
	.unlink = viofs_unlink,
	.rmdir = viofs_rmdir,
	.rename = viofs_rename,
	.read = viofs_read,
	.write = viofs_write,
	.truncate = viofs_truncate,
	.getattr = viofs_getattr,
	.readdir = viofs_readdir,
	.readlink = viofs_readlink,
	.fsync = viofs_fsync,
	.release = viofs_release,
};

/* ------------------------------------------------------------ file system */

static int
viofs_mount(struct mount *mnt, const char *source, unsigned long flags,
	    const void *data)
{
	struct viofs *d = NULL;
	struct stat st;

	(void)flags;
	(void)data;
	for (unsigned i = 0; i < ndevices && !d; i++)
		if (!kstrcmp(devices[i]->tag, source))
			d = devices[i];
	if (!d)
		return -ENODEV;
	if (d->mounted)
		return -EBUSY;
	int err = session_init(d);
	if (err)
		return err;
	struct viofs_mount *m = kzalloc(sizeof(*m));
	struct viofs_node *root = kzalloc(sizeof(*root));
	if (!m || !root) {
		kfree(m);
		kfree(root);
		return -ENOMEM;
	}
	m->dev = d;
	mnt->priv = m;
	vn_init(&root->vn, &viofs_ops, mnt, S_IFDIR, NULL);
	root->nodeid = FUSE_ROOT_ID;
	memset(&st, 0, sizeof(st));
	err = viofs_getattr(&root->vn, &st);
	if (!err && !S_ISDIR(st.st_mode))
		err = -ENOTDIR;
	if (err) {
		kfree(root);
		kfree(m);
		mnt->priv = NULL;
		return err;
	}
	m->hash[FUSE_ROOT_ID % HASH_SIZE] = root;
	d->mounted = m;
	mnt->root = &root->vn;
	return 0;
}

static int
viofs_statfs(struct mount *mnt, struct statfs *st)
{
	struct viofs_mount *m = mnt->priv;
	struct fuse_call c;
	struct fuse_kstatfs k;

	fuse_call_init(&c, FUSE_STATFS, FUSE_ROOT_ID, 0);
	c.reply = &k;
	c.reply_len = sizeof(k);
	long got = call(m->dev, &c);
	if (got < 0)
		return (int)got;
	st->f_type = FUSE_SUPER_MAGIC;
	st->f_bsize = k.bsize;
	st->f_frsize = k.frsize ? k.frsize : k.bsize;
	st->f_blocks = k.blocks;
	st->f_bfree = k.bfree;
	st->f_bavail = k.bavail;
	st->f_files = k.files;
	st->f_ffree = k.ffree;
	st->f_namelen = k.namelen;
	return 0;
}

const struct fs_type virtiofs_type = {
	.name = "virtiofs",
	.mount = viofs_mount,
	.statfs = viofs_statfs,
};

/* ------------------------------------------------------------ device */

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
	for (unsigned i = 0; i < TAG_LEN; i++)
		d->tag[i] = (char)vd->ops->config_read(vd, CFG_TAG + i, 1);
	d->tag[TAG_LEN] = 0;
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
	pr_debug("virtio-fs: tag \"%s\", %s %s, %s\n", d->tag, vd->transport,
		 vd->where, vd->irq_kind ? vd->irq_kind : "?");
	return 0;
}
