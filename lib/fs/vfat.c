/*
 * The "vfat" file system type: the VFS's face of lib/fs/fat.c on a block
 * device of the block class (mount("/dev/vda", "/data", "vfat", 0, NULL)
 * or the kernel option mount=/dev/vda:/data:vfat).  It keeps one inode
 * per file in use, because fat.c wants exactly one fat_node per file, and
 * one sleeping lock per volume around every call into fat.c, which is not
 * thread-safe.  FAT itself (clusters, names, the FAT copies) is fat.c's
 * business, sector I/O the block class's.
 *
 * A file removed or replaced while it is open loses its clusters at once
 * (FAT has no link count): further reads and writes through the open file
 * answer -ESTALE rather than bytes that belong to someone else.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "lib/dev/blkdev.h"
#include "lib/fs/fat.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/printk.h"
#include "lib/mm/kheap.h"

#define MSDOS_SUPER_MAGIC 0x4d44

struct vfat_inode {
	struct vnode vn;
	struct fat_node node;
	struct vfat_inode *next;	/* the volume's inodes in use */
	bool gone;			/* unlinked or replaced while in use */
};

struct vfat {
	struct fat_vol *vol;
	struct blkdev *dev;
	unsigned ratio;			/* 512-byte sectors a FAT sector */
	struct kmutex lock;
	struct vfat_inode *inodes;
};

static const struct vnode_ops vfat_ops;

static struct vfat *
vol_of(struct vnode *vn)
{
	return vn->mnt->priv;
}

static struct vfat_inode *
inode_of(struct vnode *vn)
{
	return (struct vfat_inode *)vn;
}

/* --------------------------------------------------------- sector I/O */

static int
dev_read(void *ctx, uint64_t sector, void *buf, uint32_t count)
{
	struct vfat *fs = ctx;

	return blkdev_read(fs->dev, sector * fs->ratio, buf,
			   (uint64_t)count * fs->ratio);
}

static int
dev_write(void *ctx, uint64_t sector, const void *buf, uint32_t count)
{
	struct vfat *fs = ctx;

	return blkdev_write(fs->dev, sector * fs->ratio, buf,
			    (uint64_t)count * fs->ratio);
}

static int
dev_flush(void *ctx)
{
	return blkdev_flush(((struct vfat *)ctx)->dev);
}

static void *
mem_alloc(size_t n)
{
	return kmalloc(n);
}

static void
mem_free(void *p)
{
	kfree(p);
}

/* ------------------------------------------------------------- inodes */

static bool
same_file(const struct fat_node *a, const struct fat_node *b)
{
	if (a->is_root || b->is_root)
		return a->is_root && b->is_root;
	return a->dir_cluster == b->dir_cluster && a->entry == b->entry;
}

/* The inode for node, shared with whoever has the file already; lock held. */
static int
inode_get(struct vfat *fs, struct mount *mnt, const struct fat_node *node,
	  struct vnode **out)
{
	for (struct vfat_inode *i = fs->inodes; i; i = i->next) {
		if (!i->gone && same_file(&i->node, node)) {
			*out = vn_ref(&i->vn);
			return 0;
		}
	}
	struct vfat_inode *i = kzalloc(sizeof(*i));
	if (!i)
		return -ENOMEM;
	i->node = *node;
	vn_init(&i->vn, &vfat_ops, mnt,
		(node->attr & FAT_ATTR_DIRECTORY) || node->is_root ? S_IFDIR : S_IFREG,
		i);
	i->next = fs->inodes;
	fs->inodes = i;
	*out = &i->vn;
	return 0;
}

/* Marks the in-use inode of the file at node's place as gone; lock held. */
static void
inode_forget(struct vfat *fs, const struct fat_node *node)
{
	for (struct vfat_inode *i = fs->inodes; i; i = i->next)
		if (!i->gone && same_file(&i->node, node))
			i->gone = true;
}

static void
vfat_release(struct vnode *vn)
{
	struct vfat *fs = vol_of(vn);
	struct vfat_inode *me = inode_of(vn);

	kmutex_lock(&fs->lock);
	for (struct vfat_inode **p = &fs->inodes; *p; p = &(*p)->next) {
		if (*p == me) {
			*p = me->next;
			break;
		}
	}
	kmutex_unlock(&fs->lock);
	kfree(me);
}

/* ---------------------------------------------------------- name ops */

static int
vfat_lookup(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	struct vfat *fs = vol_of(dir);
	struct fat_node n;

	kmutex_lock(&fs->lock);
	int err = fat_lookup(fs->vol, &inode_of(dir)->node, name, len, &n);
	if (!err)
		err = inode_get(fs, dir->mnt, &n, out);
	kmutex_unlock(&fs->lock);
	return err;
}

static int
vfat_create(struct vnode *dir, const char *name, size_t len, mode_t mode,
	    struct vnode **out)
{
	struct vfat *fs = vol_of(dir);
	struct fat_node n;

	kmutex_lock(&fs->lock);
	int err = S_ISDIR(mode) ?
		fat_mkdir(fs->vol, &inode_of(dir)->node, name, len, &n) :
		fat_create(fs->vol, &inode_of(dir)->node, name, len, &n);
	if (!err)
		err = inode_get(fs, dir->mnt, &n, out);
	kmutex_unlock(&fs->lock);
	return err;
}

/* unlink and rmdir: the file's in-use inode, if any, becomes stale. */
static int
remove_name(struct vnode *dir, const char *name, size_t len, bool is_dir)
{
	struct vfat *fs = vol_of(dir);
	struct fat_node n;

	kmutex_lock(&fs->lock);
	const struct fat_node *d = &inode_of(dir)->node;
	int err = fat_lookup(fs->vol, d, name, len, &n);
	if (!err)
		err = is_dir ? fat_rmdir(fs->vol, d, name, len)
			     : fat_unlink(fs->vol, d, name, len);
	if (!err)
		inode_forget(fs, &n);
	kmutex_unlock(&fs->lock);
	return err;
}

static int
vfat_unlink(struct vnode *dir, const char *name, size_t len)
{
	return remove_name(dir, name, len, false);
}

static int
vfat_rmdir(struct vnode *dir, const char *name, size_t len)
{
	return remove_name(dir, name, len, true);
}

static int
vfat_rename(struct vnode *odir, const char *oname, size_t olen,
	    struct vnode *ndir, const char *nname, size_t nlen)
{
	struct vfat *fs = vol_of(odir);
	struct fat_node from, target, moved;

	kmutex_lock(&fs->lock);
	const struct fat_node *od = &inode_of(odir)->node;
	const struct fat_node *nd = &inode_of(ndir)->node;
	int err = fat_lookup(fs->vol, od, oname, olen, &from);
	bool replaced = !err && !fat_lookup(fs->vol, nd, nname, nlen, &target);
	if (!err)
		err = fat_rename(fs->vol, od, oname, olen, nd, nname, nlen, &moved);
	if (!err) {
		if (replaced && !same_file(&target, &from))
			inode_forget(fs, &target);
		/* The moved file's inode follows it to its new entry. */
		for (struct vfat_inode *i = fs->inodes; i; i = i->next)
			if (!i->gone && same_file(&i->node, &from))
				i->node = moved;
	}
	kmutex_unlock(&fs->lock);
	return err;
}

static int
vfat_readdir_impl(struct vnode *dir, uint64_t *cookie, struct vfs_dirent *ent)
{
	struct vfat *fs = vol_of(dir);
	struct fat_attr a;
	int r = 1;

	kmutex_lock(&fs->lock);
	const struct fat_node *d = &inode_of(dir)->node;
	if (*cookie < 2) {	/* "." and "..", which fat.c leaves to us */
		struct fat_node n = *d;
		if (*cookie == 1 && fat_lookup(fs->vol, d, "..", 2, &n))
			n = *d;
		fat_getattr(fs->vol, &n, &a);
		ent->ino = a.ino;
		ent->type = DT_DIR;
		strcpy(ent->name, *cookie ? ".." : ".");
		(*cookie)++;
	} else {
		static struct fat_dirent fe;	/* under the lock; 300 bytes */
		uint64_t c = *cookie - 2;
		r = fat_readdir(fs->vol, d, &c, &fe);
		if (r > 0) {
			fat_getattr(fs->vol, &fe.node, &a);
			ent->ino = a.ino;
			ent->type = a.is_dir ? DT_DIR : DT_REG;
			memcpy(ent->name, fe.name, sizeof(fe.name));
			*cookie = c + 2;
		}
	}
	kmutex_unlock(&fs->lock);
	return r;
}

/* ---------------------------------------------------------- data ops */

static ssize_t
vfat_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	struct vfat *fs = vol_of(vn);
	struct vfat_inode *i = inode_of(vn);

	if (off < 0)
		return -EINVAL;
	kmutex_lock(&fs->lock);
	int64_t r = i->gone ? -ESTALE : fat_read(fs->vol, &i->node, (uint64_t)off, buf, len);
	kmutex_unlock(&fs->lock);
	return (ssize_t)r;
}

static ssize_t
vfat_write(struct vnode *vn, const void *buf, size_t len, off_t *pos, bool append)
{
	struct vfat *fs = vol_of(vn);
	struct vfat_inode *i = inode_of(vn);
	int64_t r;

	kmutex_lock(&fs->lock);
	if (i->gone) {
		r = -ESTALE;
	} else {
		uint64_t at = append ? i->node.size : (uint64_t)*pos;
		r = fat_write(fs->vol, &i->node, at, buf, len);
		if (r > 0)
			*pos = (off_t)(at + (uint64_t)r);
	}
	kmutex_unlock(&fs->lock);
	return (ssize_t)r;
}

static int
vfat_truncate(struct vnode *vn, off_t size)
{
	struct vfat *fs = vol_of(vn);
	struct vfat_inode *i = inode_of(vn);

	if (size < 0)
		return -EINVAL;
	kmutex_lock(&fs->lock);
	int err = i->gone ? -ESTALE : fat_truncate(fs->vol, &i->node, (uint64_t)size);
	kmutex_unlock(&fs->lock);
	return err;
}

static int
vfat_getattr(struct vnode *vn, struct stat *st)
{
	struct vfat *fs = vol_of(vn);
	struct fat_attr a;
	struct fat_statfs sf;

	kmutex_lock(&fs->lock);
	fat_getattr(fs->vol, &inode_of(vn)->node, &a);
	fat_statfs(fs->vol, &sf);
	kmutex_unlock(&fs->lock);
	st->st_ino = a.ino;
	st->st_mode = a.mode;
	st->st_nlink = a.is_dir ? 2 : 1;
	st->st_size = (off_t)a.size;
	st->st_blocks = a.blocks;
	st->st_blksize = sf.cluster_size;
	st->st_mtim.tv_sec = st->st_atim.tv_sec = st->st_ctim.tv_sec = a.mtime;
	return 0;
}

static int
vfat_fsync(struct vnode *vn)
{
	struct vfat *fs = vol_of(vn);

	kmutex_lock(&fs->lock);
	int err = fat_fsync(fs->vol, &inode_of(vn)->node);
	kmutex_unlock(&fs->lock);
	return err;
}

static const struct vnode_ops vfat_ops = {
	.lookup = vfat_lookup,
	.create = vfat_create,
	.unlink = vfat_unlink,
	.rmdir = vfat_rmdir,
	.rename = vfat_rename,
	.read = vfat_read,
	.write = vfat_write,
	.truncate = vfat_truncate,
	.getattr = vfat_getattr,
	.readdir = vfat_readdir_impl,
	.fsync = vfat_fsync,
	.release = vfat_release,
};

/* ------------------------------------------------------------- mount */

static int
vfat_mount(struct mount *mnt, const char *source, unsigned long flags,
	   const void *data)
{
	struct blkdev *dev = blkdev_find(source);
	const char *why = "";

	if (!dev)
		return -ENODEV;
	if (dev->logical_block % BLKDEV_SECTOR || dev->logical_block > 4096)
		return -EINVAL;
	struct vfat *fs = kzalloc(sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->dev = dev;
	fs->ratio = dev->logical_block / BLKDEV_SECTOR;
	struct fat_dev fd = {
		.read = dev_read, .write = dev_write, .flush = dev_flush,
		.sector_size = dev->logical_block,
		.sectors = dev->sectors / fs->ratio,
		.ctx = fs,
	};
	struct fat_mount_opts opts = {
		.mem = { mem_alloc, mem_free },
		.read_only = dev->read_only || (flags & 1 /* MS_RDONLY */),
	};
	int err = fat_mount(&fd, &opts, &fs->vol, &why);
	if (err) {
		pr_warn("vfat: cannot mount %s: %s\n", source,
			err == -EINVAL && why ? why : "device error");
		kfree(fs);
		return err;
	}
	mnt->priv = fs;
	struct fat_node root;
	fat_root(fs->vol, &root);
	err = inode_get(fs, mnt, &root, &mnt->root);
	if (err) {
		fat_unmount(fs->vol);
		kfree(fs);
	}
	return err;
}

static int
vfat_unmount(struct mount *mnt)
{
	struct vfat *fs = mnt->priv;
	int err = fat_unmount(fs->vol);

	kfree(fs);
	return err;
}

static int
vfat_statfs(struct mount *mnt, struct statfs *st)
{
	struct vfat *fs = mnt->priv;
	struct fat_statfs sf;

	kmutex_lock(&fs->lock);
	int err = fat_statfs(fs->vol, &sf);
	kmutex_unlock(&fs->lock);
	if (err)
		return err;
	st->f_type = MSDOS_SUPER_MAGIC;
	st->f_bsize = sf.cluster_size;
	st->f_frsize = sf.cluster_size;
	st->f_blocks = sf.clusters;
	st->f_bfree = st->f_bavail = sf.free_clusters;
	st->f_namelen = FAT_NAME_MAX;
	return 0;
}

const struct fs_type vfat_type = {
	.name = "vfat",
	.mount = vfat_mount,
	.unmount = vfat_unmount,
	.statfs = vfat_statfs,
};
