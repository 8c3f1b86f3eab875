/*
 * ramfs: files, directories and symlinks kept in kernel memory, the root
 * file system ("/") that the initrd fills at boot, and /tmp.  A file's
 * bytes are one growing buffer; a directory is a list of entries in
 * creation order, each with a sequence number that is its readdir
 * cookie, so removing entries never makes readdir skip or repeat one.
 * sendfile() sends a file's bytes without copying them (ramfs_pin); a
 * write or truncate while the network still holds them moves the file to
 * a copy first (own()).
 * Every entry holds a reference on its node; a node goes away when its
 * last entry and its last open file are gone.  Not for anything that
 * must survive a reboot, and no hard links.
 *
 * Locking (see vfs.h): directory structure changes only under the VFS's
 * name-space lock; a node's bytes and size are under the node's spinlock.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/statfs.h>

#include "lib/fs/vfs.h"
#include "lib/kernel/kbuf.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"

#define RAMFS_MAGIC 0x858458f6

struct ramfs_entry {
	struct ramfs_entry *next;
	struct ramfs_node *node;	/* referenced */
	uint64_t seq;			/* readdir cookie; grows, from 2 */
	size_t len;
	char name[];
};

/*
 * A file's bytes.  The node holds one reference; sendfile() lends the
 * bytes to TCP (vnode_ops.pin), whose queued segments hold more until
 * the peer acknowledges them.  A node changes its bytes in place only
 * while its reference is the only one, and otherwise moves to a copy
 * first, so what was lent never changes under the network.
 */
struct ramfs_blob {
	struct kbuf ref;
	size_t cap;
	char bytes[];
};

struct ramfs_node {
	struct vnode vn;
	struct spinlock lock;		/* data, size, mode, times */
	uint64_t ino;
	mode_t mode;			/* permission bits */
	int64_t mtime;
	union {
		struct {		/* regular file, symlink target */
			char *data;	/* blob->bytes, or NULL */
			size_t size;
			struct ramfs_blob *blob;
		} f;
		struct {
			struct ramfs_entry *head, *tail;
			struct ramfs_node *parent;	/* NULL once removed */
			uint64_t next_seq;
			unsigned subdirs, count;
		} d;
	};
};

static const struct vnode_ops ramfs_ops;
static uint64_t ramfs_next_ino = 1;

static struct ramfs_node *
R(struct vnode *vn)
{
	return (struct ramfs_node *)vn;
}

static void
blob_release(struct kbuf *b)
{
	kfree(b);	/* ref is the blob's first member */
}

/*
 * Makes n's bytes its own to change (a copy if they are lent out) with
 * room for need bytes, keeping the first keep (<= size) of them.
 */
static int
own(struct ramfs_node *n, size_t need, size_t keep)
{
	struct ramfs_blob *b = n->f.blob, *nb;
	bool lent = b && kbuf_shared(&b->ref);
	size_t cap = b ? b->cap : 64;

	if (b && !lent && need <= b->cap)
		return 0;
	while (cap < need)
		cap = cap > (SIZE_MAX >> 1) ? need : cap * 2;
	if (cap > SIZE_MAX - sizeof(*nb))
		return -ENOSPC;
	if (b && !lent) {
		if (!(nb = krealloc(b, sizeof(*nb) + cap)))
			return -ENOSPC;
	} else {
		if (!(nb = kmalloc(sizeof(*nb) + cap)))
			return -ENOSPC;
		kbuf_init(&nb->ref, blob_release);
		if (b) {
			memcpy(nb->bytes, b->bytes, keep);
			kbuf_put(&b->ref);
		}
	}
	nb->cap = cap;
	n->f.blob = nb;
	n->f.data = nb->bytes;
	return 0;
}

static struct ramfs_node *
node_new(struct mount *mnt, mode_t mode)
{
	struct ramfs_node *n = kzalloc(sizeof(*n));

	if (!n)
		return NULL;
	vn_init(&n->vn, &ramfs_ops, mnt, mode, NULL);
	n->ino = __atomic_fetch_add(&ramfs_next_ino, 1, __ATOMIC_RELAXED);
	n->mode = mode & 07777;
	n->d.next_seq = 2;
	return n;
}

static struct ramfs_entry **
find(struct ramfs_node *dir, const char *name, size_t len)
{
	struct ramfs_entry **e = &dir->d.head;

	for (; *e; e = &(*e)->next)
		if ((*e)->len == len && !memcmp((*e)->name, name, len))
			return e;
	return NULL;
}

static int
ramfs_lookup(struct vnode *vn, const char *name, size_t len, struct vnode **out)
{
	struct ramfs_node *dir = R(vn);

	if (len == 2 && name[0] == '.' && name[1] == '.') {
		if (!dir->d.parent)
			return -ENOENT;
		*out = vn_ref(&dir->d.parent->vn);
		return 0;
	}
	struct ramfs_entry **e = find(dir, name, len);
	if (!e)
		return -ENOENT;
	*out = vn_ref(&(*e)->node->vn);
	return 0;
}

/* Links n (its reference moves to the entry) into dir as (name, len). */
static int
link_in(struct ramfs_node *dir, const char *name, size_t len, struct ramfs_node *n)
{
	struct ramfs_entry *e = kmalloc(sizeof(*e) + len);

	if (!e)
		return -ENOSPC;
	e->next = NULL;
	e->node = n;
	e->seq = dir->d.next_seq++;
	e->len = len;
	memcpy(e->name, name, len);
	if (dir->d.tail)
		dir->d.tail->next = e;
	else
		dir->d.head = e;
	dir->d.tail = e;
	dir->d.count++;
	if (n->vn.type == S_IFDIR) {
		dir->d.subdirs++;
		n->d.parent = dir;
	}
	return 0;
}

/* Unlinks *ep from dir; returns the node, whose reference the caller gets. */
static struct ramfs_node *
link_out(struct ramfs_node *dir, struct ramfs_entry **ep)
{
	struct ramfs_entry *e = *ep, *prev = NULL;

	for (struct ramfs_entry *p = dir->d.head; p != e; p = p->next)
		prev = p;
	*ep = e->next;
	if (dir->d.tail == e)
		dir->d.tail = prev;
	dir->d.count--;
	struct ramfs_node *n = e->node;
	if (n->vn.type == S_IFDIR) {
		dir->d.subdirs--;
		n->d.parent = NULL;
	}
	kfree(e);
	return n;
}

static int
make(struct vnode *vn, const char *name, size_t len, mode_t mode,
     struct ramfs_node **out)
{
	struct ramfs_node *n = node_new(vn->mnt, mode);

	if (!n)
		return -ENOSPC;
	vn_ref(&n->vn);		/* one for the entry, one for the caller */
	int r = link_in(R(vn), name, len, n);
	if (r) {
		kfree(n);
		return r;
	}
	*out = n;
	return 0;
}

static int
ramfs_create(struct vnode *vn, const char *name, size_t len, mode_t mode,
	     struct vnode **out)
{
	struct ramfs_node *n;
	int r = make(vn, name, len, mode, &n);

	if (!r)
		*out = &n->vn;
	return r;
}

static int ramfs_unlink(struct vnode *vn, const char *name, size_t len);

static int
ramfs_symlink(struct vnode *vn, const char *name, size_t len, const char *target)
{
	size_t tlen = strlen(target);
	struct ramfs_node *n;
	int r = make(vn, name, len, S_IFLNK | 0777, &n);

	if (r)
		return r;
	r = own(n, tlen + 1, 0);
	if (!r) {
		memcpy(n->f.data, target, tlen + 1);
		n->f.size = tlen;
	} else {
		ramfs_unlink(vn, name, len);	/* not left behind empty */
	}
	vn_put(&n->vn);
	return r;
}

static int
ramfs_unlink(struct vnode *vn, const char *name, size_t len)
{
	struct ramfs_entry **e = find(R(vn), name, len);

	if (!e)
		return -ENOENT;
	vn_put(&link_out(R(vn), e)->vn);
	return 0;
}

static int
ramfs_rmdir(struct vnode *vn, const char *name, size_t len)
{
	struct ramfs_entry **e = find(R(vn), name, len);

	if (!e)
		return -ENOENT;
	if ((*e)->node->d.count)
		return -ENOTEMPTY;
	vn_put(&link_out(R(vn), e)->vn);
	return 0;
}

static int
ramfs_rename(struct vnode *odir, const char *oname, size_t olen,
	     struct vnode *ndir, const char *nname, size_t nlen)
{
	struct ramfs_entry **oe = find(R(odir), oname, olen);
	struct ramfs_entry **ne = find(R(ndir), nname, nlen);
	struct ramfs_node *victim = NULL;

	if (!oe)
		return -ENOENT;
	if (ne && (*ne)->node->vn.type == S_IFDIR && (*ne)->node->d.count)
		return -ENOTEMPTY;
	/* Make the new entry first: running out of memory changes nothing. */
	struct ramfs_node *n = (*oe)->node;
	int r = link_in(R(ndir), nname, nlen, n);
	if (r)
		return r;
	if (ne && (ne = find(R(ndir), nname, nlen)) && (*ne)->node != n)
		victim = link_out(R(ndir), ne);
	/* The old entry: the first one naming n that is not the new one. */
	for (oe = &R(odir)->d.head; (*oe)->node != n || *oe == R(ndir)->d.tail;)
		oe = &(*oe)->next;
	link_out(R(odir), oe);
	if (n->vn.type == S_IFDIR)
		n->d.parent = R(ndir);
	if (victim)
		vn_put(&victim->vn);
	return 0;
}

static ssize_t
ramfs_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	struct ramfs_node *n = R(vn);
	size_t got = 0;

	spin_lock(&n->lock);
	if ((uint64_t)off < n->f.size) {
		got = n->f.size - (size_t)off;
		if (got > len)
			got = len;
		memcpy(buf, n->f.data + off, got);
	}
	spin_unlock(&n->lock);
	return (ssize_t)got;
}

static ssize_t
ramfs_write(struct vnode *vn, const void *buf, size_t len, off_t *pos,
	    bool append)
{
	struct ramfs_node *n = R(vn);
	int r = 0;

	spin_lock(&n->lock);
	if (append)
		*pos = (off_t)n->f.size;
	uint64_t end = (uint64_t)*pos + len;
	if (end > (uint64_t)INT64_MAX || end < (uint64_t)*pos || end > SIZE_MAX) {
		r = -EFBIG;
	} else if (len) {
		size_t size = n->f.size, at = (size_t)*pos;
		size_t keep = size > end ? size : (size_t)end;
		if (!(r = own(n, keep, size))) {
			if (at > size)
				memset(n->f.data + size, 0, at - size);
			memcpy(n->f.data + at, buf, len);
			n->f.size = keep;
			*pos = (off_t)end;
		}
	}
	spin_unlock(&n->lock);
	return r ? r : (ssize_t)len;
}

static int
ramfs_truncate(struct vnode *vn, off_t size)
{
	struct ramfs_node *n = R(vn);

	size_t old, want = (size_t)size;
	int r = 0;

	if ((uint64_t)size > SIZE_MAX)
		return -EFBIG;
	spin_lock(&n->lock);
	old = n->f.size;
	if (want > old) {
		if (!(r = own(n, want, old)))
			memset(n->f.data + old, 0, want - old);
	} else if (want < old && n->f.blob && kbuf_shared(&n->f.blob->ref)) {
		r = own(n, want, want);	/* the lent bytes stay as they were */
	}
	if (!r)
		n->f.size = want;
	spin_unlock(&n->lock);
	return r;
}

static int
ramfs_getattr(struct vnode *vn, struct stat *st)
{
	struct ramfs_node *n = R(vn);

	spin_lock(&n->lock);
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = vn->type == S_IFDIR ? 2 + n->d.subdirs : 1;
	st->st_size = vn->type == S_IFDIR ? 0 : (off_t)n->f.size;
	st->st_blocks = vn->type == S_IFDIR ? 0 : (blkcnt_t)((n->f.size + 511) / 512);
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = n->mtime;
	spin_unlock(&n->lock);
	return 0;
}

static unsigned char
dtype(mode_t type)
{
	return type == S_IFDIR ? DT_DIR : type == S_IFLNK ? DT_LNK :
	       type == S_IFCHR ? DT_CHR : type == S_IFBLK ? DT_BLK : DT_REG;
}

static int
ramfs_readdir(struct vnode *vn, uint64_t *cookie, struct vfs_dirent *ent)
{
	struct ramfs_node *dir = R(vn);

	if (*cookie < 2) {
		struct ramfs_node *n = *cookie == 1 && dir->d.parent ? dir->d.parent : dir;
		ent->ino = n->ino;
		ent->type = DT_DIR;
		memcpy(ent->name, "..", 3);
		ent->name[*cookie + 1] = 0;
		(*cookie)++;
		return 1;
	}
	for (struct ramfs_entry *e = dir->d.head; e; e = e->next) {
		if (e->seq < *cookie)
			continue;
		ent->ino = e->node->ino;
		ent->type = dtype(e->node->vn.type);
		memcpy(ent->name, e->name, e->len);
		ent->name[e->len] = 0;
		*cookie = e->seq + 1;
		return 1;
	}
	return 0;
}

static ssize_t
ramfs_readlink(struct vnode *vn, char *buf, size_t len)
{
	struct ramfs_node *n = R(vn);
	size_t k = n->f.size < len ? n->f.size : len;

	memcpy(buf, n->f.data, k);
	return (ssize_t)k;
}

/* sendfile() from a RAM file: its bytes lent, not copied. */
static ssize_t
ramfs_pin(struct vnode *vn, off_t off, size_t len, const void **data, struct kbuf **ref)
{
	struct ramfs_node *n = R(vn);
	size_t got = 0;

	spin_lock(&n->lock);
	if (off >= 0 && (uint64_t)off < n->f.size) {
		got = n->f.size - (size_t)off;
		if (got > len)
			got = len;
		*data = n->f.data + off;
		*ref = kbuf_get(&n->f.blob->ref);
	}
	spin_unlock(&n->lock);
	return (ssize_t)got;
}

static void
ramfs_release(struct vnode *vn)
{
	struct ramfs_node *n = R(vn);

	if (vn->type == S_IFDIR) {
		while (n->d.head)
			vn_put(&link_out(n, &n->d.head)->vn);
	} else if (n->f.blob) {
		kbuf_put(&n->f.blob->ref);
	}
	kfree(n);
}

static const struct vnode_ops ramfs_ops = {
	.lookup = ramfs_lookup,
	.create = ramfs_create,
	.symlink = ramfs_symlink,
	.unlink = ramfs_unlink,
	.rmdir = ramfs_rmdir,
	.rename = ramfs_rename,
	.read = ramfs_read,
	.write = ramfs_write,
	.truncate = ramfs_truncate,
	.getattr = ramfs_getattr,
	.readdir = ramfs_readdir,
	.readlink = ramfs_readlink,
	.pin = ramfs_pin,
	.release = ramfs_release,
};

static int
ramfs_mount(struct mount *mnt, const char *source, unsigned long flags,
	    const void *data)
{
	struct ramfs_node *root = node_new(mnt, S_IFDIR | 0755);

	if (!root)
		return -ENOMEM;
	mnt->root = &root->vn;
	return 0;
}

/* The tree goes when its root does (ramfs_release, entry by entry). */
static int
ramfs_statfs(struct mount *mnt, struct statfs *st)
{
	st->f_type = RAMFS_MAGIC;
	return 0;
}

/* Sets a node's modification time (the initrd keeps the archive's). */
void
ramfs_set_mtime(struct vnode *vn, int64_t t)
{
	if (vn->ops == &ramfs_ops)
		R(vn)->mtime = t;
}

const struct fs_type ramfs_type = {
	.name = "ramfs",
	.mount = ramfs_mount,
	.statfs = ramfs_statfs,
};
