/*
 * devfs, mounted on /dev: a flat directory of device nodes.  The
 * built-in ones are null, zero, random, urandom and console (the serial
 * console: stdin, stdout and stderr); devfs_add() adds more, and every
 * disk of the block-device class (lib/dev/blkdev.h) appears as /dev/vdX,
 * read and written at any byte offset.  Device operations are the
 * driver's own vnode_ops; devfs only names them.  Not a place for
 * directories, permissions or hot unplug.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "lib/dev/blkdev.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/random.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"

#define DEVFS_MAX	48
#define DEVFS_ROOT_INO	1

struct devfs_node {
	struct vnode vn;
	struct vnode_ops ops;		/* the driver's, getattr filled in */
	unsigned rdev;
	char name[16];
};

static struct devfs_node *nodes[DEVFS_MAX];	/* ino = index + 2 */
static struct spinlock devfs_lock;
static struct mount *devfs_mnt;
static struct vnode devfs_root;

static int
devfs_getattr(struct vnode *vn, struct stat *st)
{
	struct devfs_node *d = (struct devfs_node *)vn;

	for (int i = 0; i < DEVFS_MAX; i++)
		if (nodes[i] == d)
			st->st_ino = (ino_t)i + 2;
	st->st_mode = 0666;
	st->st_rdev = d->rdev;
	return 0;
}

int
devfs_add(const char *name, mode_t type, unsigned rdev,
	  const struct vnode_ops *ops, void *priv)
{
	struct devfs_node *d = kzalloc(sizeof(*d));
	int r = -ENOSPC;

	if (!d)
		return -ENOMEM;
	d->ops = *ops;
	if (!d->ops.getattr)
		d->ops.getattr = devfs_getattr;
	d->rdev = rdev;
	kstrlcpy(d->name, name, sizeof(d->name));
	vn_init(&d->vn, &d->ops, devfs_mnt, type, priv);
	spin_lock(&devfs_lock);
	for (int i = 0; i < DEVFS_MAX && r; i++) {
		if (nodes[i] && !kstrcmp(nodes[i]->name, d->name)) {
			r = -EEXIST;
			break;
		}
		if (!nodes[i]) {
			nodes[i] = d;
			r = 0;
		}
	}
	spin_unlock(&devfs_lock);
	if (r)
		kfree(d);
	return r;
}

/* ------------------------------------------------------------ disks */

/*
 * Disks come from blkdev.h.  The registry is referenced weakly so that an
 * image without disk drivers does not carry it: blkdev_count is then NULL.
 */
#pragma weak blkdev_count
#pragma weak blkdev_get
#pragma weak blkdev_read
#pragma weak blkdev_write
#pragma weak blkdev_flush
static unsigned blk_seen;

/* A sector-sized bounce for the ends of an unaligned transfer. */
static int
blk_rw(struct blkdev *d, uint64_t off, void *buf, size_t len, bool write)
{
	uint8_t *b = buf;
	uint8_t *bounce = NULL;
	int r = 0;

	while (len && !r) {
		uint64_t sec = off / BLKDEV_SECTOR;
		size_t in = off % BLKDEV_SECTOR;
		if (!in && len >= BLKDEV_SECTOR) {
			uint64_t n = len / BLKDEV_SECTOR;
			r = write ? blkdev_write(d, sec, b, n) : blkdev_read(d, sec, b, n);
			n *= BLKDEV_SECTOR;
			b += n, off += n, len -= n;
			continue;
		}
		if (!bounce && !(bounce = kmalloc(BLKDEV_SECTOR)))
			return -ENOMEM;
		size_t k = BLKDEV_SECTOR - in < len ? BLKDEV_SECTOR - in : len;
		if (!(r = blkdev_read(d, sec, bounce, 1))) {
			if (write) {
				memcpy(bounce + in, b, k);
				r = blkdev_write(d, sec, bounce, 1);
			} else {
				memcpy(b, bounce + in, k);
			}
		}
		b += k, off += k, len -= k;
	}
	kfree(bounce);
	return r;
}

static size_t
blk_clamp(struct blkdev *d, off_t off, size_t len)
{
	uint64_t size = d->sectors * BLKDEV_SECTOR;

	if ((uint64_t)off >= size)
		return 0;
	return size - (uint64_t)off < len ? (size_t)(size - (uint64_t)off) : len;
}

static ssize_t
blk_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	len = blk_clamp(vn->priv, off, len);
	int r = blk_rw(vn->priv, (uint64_t)off, buf, len, false);
	return r ? r : (ssize_t)len;
}

static ssize_t
blk_write(struct vnode *vn, const void *buf, size_t len, off_t *pos, bool append)
{
	struct blkdev *d = vn->priv;

	if (append)
		*pos = (off_t)(d->sectors * BLKDEV_SECTOR);
	size_t n = blk_clamp(d, *pos, len);
	if (!n && len)
		return -ENOSPC;
	int r = blk_rw(d, (uint64_t)*pos, (void *)buf, n, true);
	if (r)
		return r;
	*pos += (off_t)n;
	return (ssize_t)n;
}

static int
blk_getattr(struct vnode *vn, struct stat *st)
{
	struct blkdev *d = vn->priv;

	st->st_mode = 0660;
	st->st_size = (off_t)(d->sectors * BLKDEV_SECTOR);
	st->st_blksize = d->logical_block;
	st->st_rdev = makedev(254, (d->name[2] - 'a') * 16);
	st->st_ino = 100 + (ino_t)(d->name[2] - 'a');
	return 0;
}

static int
blk_fsync(struct vnode *vn)
{
	return blkdev_flush(vn->priv);
}

#define BLKGETSIZE64 0x80081272UL
#define BLKSSZGET 0x1268UL

static int
blk_ioctl(struct vnode *vn, unsigned long req, void *arg)
{
	struct blkdev *d = vn->priv;

	if (req == BLKGETSIZE64)
		*(uint64_t *)arg = d->sectors * BLKDEV_SECTOR;
	else if (req == BLKSSZGET)
		*(int *)arg = (int)d->logical_block;
	else
		return -ENOTTY;
	return 0;
}

static const struct vnode_ops blk_ops = {
	.read = blk_read, .write = blk_write, .getattr = blk_getattr,
	.fsync = blk_fsync, .ioctl = blk_ioctl,
};

/* Adds /dev/vdX for disks registered since the last look. */
static void
blk_sync(void)
{
	if (!blkdev_count)
		return;
	for (unsigned n = blkdev_count(); blk_seen < n; blk_seen++) {
		struct blkdev *d = blkdev_get(blk_seen);
		devfs_add(d->name, S_IFBLK, makedev(254, blk_seen * 16), &blk_ops, d);
	}
}

/* ------------------------------------------------------------ the directory */

static int
devfs_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		*out = vn_ref(dir);
		return 0;
	}
	blk_sync();
	for (int i = 0; i < DEVFS_MAX && nodes[i]; i++) {
		if (kstrlen(nodes[i]->name) == len && !memcmp(nodes[i]->name, name, len)) {
			*out = vn_ref(&nodes[i]->vn);
			return 0;
		}
	}
	return -ENOENT;
}

static int
devfs_readdir(struct vnode *dir, uint64_t *cookie, struct vfs_dirent *ent)
{
	uint64_t c = *cookie;

	blk_sync();
	if (c < 2) {
		ent->ino = DEVFS_ROOT_INO;
		ent->type = DT_DIR;
		kstrlcpy(ent->name, c ? ".." : ".", sizeof(ent->name));
	} else if (c - 2 < DEVFS_MAX && nodes[c - 2]) {
		ent->ino = c;
		ent->type = nodes[c - 2]->vn.type == S_IFBLK ? DT_BLK : DT_CHR;
		kstrlcpy(ent->name, nodes[c - 2]->name, sizeof(ent->name));
	} else {
		return 0;
	}
	*cookie = c + 1;
	return 1;
}

static int
devfs_dir_getattr(struct vnode *vn, struct stat *st)
{
	st->st_ino = DEVFS_ROOT_INO;
	st->st_mode = 0755;
	st->st_nlink = 2;
	return 0;
}

static const struct vnode_ops devfs_dir_ops = {
	.lookup = devfs_lookup,
	.getattr = devfs_dir_getattr,
	.readdir = devfs_readdir,
};

/* ------------------------------------------------------------ built-in devices */

static ssize_t
null_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	return 0;
}

static ssize_t
sink_write(struct vnode *vn, const void *buf, size_t len, off_t *pos, bool append)
{
	return (ssize_t)len;
}

static ssize_t
zero_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	memset(buf, 0, len);
	return (ssize_t)len;
}

static ssize_t
random_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	random_fill(buf, len);
	return (ssize_t)len;
}

/*
 * Output goes to the kernel console unchanged; input comes from the
 * console driver if it has any (the virtio console), else end-of-file.
 */
static ssize_t
console_dev_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	return (ssize_t)console_read(buf, len);
}

static ssize_t
console_dev_write(struct vnode *vn, const void *buf, size_t len, off_t *pos,
		  bool append)
{
	console_write(buf, len);
	return (ssize_t)len;
}

/* The answers a 80x24 tty gives, so stdout is line buffered as on Linux. */
static int
console_ioctl(struct vnode *vn, unsigned long req, void *arg)
{
	switch (req) {
	case TIOCGWINSZ:
		*(struct winsize *)arg = (struct winsize){ .ws_row = 24, .ws_col = 80 };
		return 0;
	case TCGETS: {
		struct termios *t = arg;
		memset(t, 0, sizeof(*t));
		t->c_iflag = ICRNL;
		t->c_oflag = OPOST | ONLCR;
		t->c_cflag = B115200 | CS8 | CREAD | CLOCAL;
		t->c_lflag = ISIG | ICANON | ECHO | ECHOE;
		return 0;
	}
	}
	return -ENOTTY;
}

static const struct vnode_ops null_ops = { .read = null_read, .write = sink_write };
static const struct vnode_ops zero_ops = { .read = zero_read, .write = sink_write };
static const struct vnode_ops random_ops = { .read = random_read, .write = sink_write };
static const struct vnode_ops console_ops = {
	.read = console_dev_read, .write = console_dev_write, .ioctl = console_ioctl,
};

static int
devfs_mount(struct mount *mnt, const char *source, unsigned long flags,
	    const void *data)
{
	if (devfs_mnt)
		return -EBUSY;
	devfs_mnt = mnt;
	vn_init(&devfs_root, &devfs_dir_ops, mnt, S_IFDIR, NULL);
	vn_ref(&devfs_root);	/* static: never released */
	mnt->root = &devfs_root;
	devfs_add("null", S_IFCHR, makedev(1, 3), &null_ops, NULL);
	devfs_add("zero", S_IFCHR, makedev(1, 5), &zero_ops, NULL);
	devfs_add("random", S_IFCHR, makedev(1, 8), &random_ops, NULL);
	devfs_add("urandom", S_IFCHR, makedev(1, 9), &random_ops, NULL);
	devfs_add("console", S_IFCHR, makedev(5, 1), &console_ops, NULL);
	for (int i = 0; i < DEVFS_MAX && nodes[i]; i++)
		nodes[i]->vn.mnt = mnt;
	return 0;
}

static int
devfs_unmount(struct mount *mnt)
{
	return -EBUSY;		/* the console lives here */
}

const struct fs_type devfs_type = {
	.name = "devfs",
	.mount = devfs_mount,
	.unmount = devfs_unmount,
};
