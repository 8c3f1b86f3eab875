/*
 * virtio-fs nodes and mounts: the file-system type "virtiofs", mounted
 * with a device's tag as the source: mount("TAG", "/srv", "virtiofs", 0,
 * NULL), or the kernel option mount=TAG:/srv:virtiofs.  A vnode is a
 * FUSE node: nodes are kept in a table per mount so that a second lookup
 * of a node finds the same vnode (mounts on it, rename checks); each
 * successful LOOKUP, CREATE or MKDIR reply counts one lookup, and the
 * vnode's release FORGETs them all.  A file handle is opened on first
 * read or write and released with the vnode; a directory's handle
 * likewise.  Not the requests (virtio-fs.c) nor the vnode operations
 * that use these nodes (virtio-fs-ops.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>

#include "drivers/virtio/virtio-fs.h"
#include "lib/kernel/printk.h"
#include "lib/mm/kheap.h"

/* ------------------------------------------------------------ nodes */

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
	struct viofs_node **b = &m->hash[nodeid % VIOFS_HASH_SIZE];

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
		viofs_forget(m->dev, nodeid, 1);
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
	for (struct viofs_node **p = &m->hash[n->nodeid % VIOFS_HASH_SIZE]; *p; p = &(*p)->hnext)
		if (*p == n) {
			*p = n->hnext;
			break;
		}
	spin_unlock(&m->table_lock);
}

int
viofs_node_from_entry(struct vnode *dir, const struct fuse_entry_out *e,
		struct viofs_node **out)
{
	int err = fuse_entry_check(e);

	if (err) {
		pr_warn("virtio-fs %s: bad node in a reply (nodeid %llu, mode 0%o)\n",
			DEV(dir)->tag, (unsigned long long)e->nodeid, e->attr.mode);
		if (e->nodeid)
			viofs_forget(DEV(dir), e->nodeid, 1);
		return err;
	}
	return node_get(M(dir), dir->mnt, e->nodeid, e->attr.mode, out);
}

void
viofs_dir_changed(struct vnode *dir)
{
	struct viofs_node *n = N(dir);

	kmutex_lock(&n->lock);
	n->dvalid = false;
	kmutex_unlock(&n->lock);
}

/* ------------------------------------------------------------ handles */

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
	return viofs_call(DEV(&n->vn), &c);
}

void
viofs_release_call(struct viofs_node *n, uint64_t fh)
{
	struct fuse_call c;
	struct fuse_release_in in = { .fh = fh };

	fuse_call_init(&c, n->vn.type == S_IFDIR ? FUSE_RELEASEDIR : FUSE_RELEASE,
		       n->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	viofs_call(DEV(&n->vn), &c);
}

/*
 * Opens n's handle if it has none, or only a read-only one and want_write:
 * read-write when the server allows it (one handle serves every reader
 * and writer), else read-only for reading.
 */
int
viofs_node_open(struct viofs_node *n, bool want_write)
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
			viofs_release_call(n, n->fh);
		n->fh = out.fh;
		n->has_fh = true;
		n->fh_writable = writable;
	}
	kmutex_unlock(&n->lock);
	return got < 0 ? (int)got : 0;
}

/*
 * The vnode's last reference: its handle flushed and released, its
 * lookups forgotten; the root's is the unmount's last step.
 */
void
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
			viofs_call(d, &c);
		}
		viofs_release_call(n, n->fh);
	}
	viofs_forget(d, n->nodeid, n->nlookup);
	if (n->nodeid == FUSE_ROOT_ID && vn == vn->mnt->root) {
		/* The unmount's last step (vfs_umount puts the root last). */
		d->mounted = NULL;
		kfree(m);
	}
	kfree(n->dbuf);
	kfree(n);
}

/* ------------------------------------------------------------ file system */

static int
viofs_mount(struct mount *mnt, const char *source, unsigned long flags,
	    const void *data)
{
	struct viofs *d = viofs_find(source);
	struct stat st;

	(void)flags;
	(void)data;
	if (!d)
		return -ENODEV;
	if (d->mounted)
		return -EBUSY;
	int err = viofs_session_init(d);
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
	m->hash[FUSE_ROOT_ID % VIOFS_HASH_SIZE] = root;
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
	long got = viofs_call(m->dev, &c);
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
