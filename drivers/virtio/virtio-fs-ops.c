/*
 * virtio-fs vnode operations, one FUSE request each or a few: reads and
 * writes in pieces of the session's max_read and max_write, an append
 * as a GETATTR for the size and the writes under the node's lock, and
 * readdir from the last READDIR reply, kept with the directory for the
 * next entries.  Not a cache of data or attributes (virtiofsd runs with
 * cache=none), and no DAX window.  Not the transport (virtio-fs.c) nor
 * the node table and handles these work on (virtio-fs-node.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "drivers/virtio/virtio-fs.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/mm/kheap.h"
#include "lib/mm/vm.h"

#define DIRBUF_LEN		4096

/* ------------------------------------------------------------ names */

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
	long got = viofs_call(DEV(dir), &c);
	if (got < 0)
		return (int)got;
	if (!e.nodeid)		/* a negative entry */
		return -ENOENT;
	int err = viofs_node_from_entry(dir, &e, &n);
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
	long got = viofs_call(d, &c);
	if (got < 0)
		return (int)got;
	viofs_dir_changed(dir);
	int err = viofs_node_from_entry(dir, &co.entry, &n);
	if (err) {
		if (!isdir) {
			struct fuse_release_in rin = { .fh = co.open.fh };
			fuse_call_init(&c, FUSE_RELEASE, co.entry.nodeid, 0);
			fuse_call_arg(&c, &rin, sizeof(rin));
			viofs_call(d, &c);
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
			viofs_release_call(n, co.open.fh);
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
	long got = viofs_call(DEV(dir), &c);
	if (got < 0)
		return (int)got;
	viofs_dir_changed(dir);
	int err = viofs_node_from_entry(dir, &e, &n);
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
	long got = viofs_call(DEV(dir), &c);
	viofs_dir_changed(dir);
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
	long got = viofs_call(DEV(odir), &c);
	viofs_dir_changed(odir);
	if (ndir != odir)
		viofs_dir_changed(ndir);
	return got < 0 ? (int)got : 0;
}

/* ------------------------------------------------------------ data */

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
	int err = viofs_node_open(n, false);
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
		long got = viofs_call(d, &c);
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
	long got = viofs_call(DEV(&n->vn), &c);
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
	if ((err = viofs_node_open(n, true)))
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
		long got = viofs_call(d, &c);
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
	long got = viofs_call(DEV(&n->vn), &c);
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

int
viofs_getattr(struct vnode *vn, struct stat *st)
{
	struct fuse_call c;
	struct fuse_getattr_in in = { 0 };
	struct fuse_attr_out out;

	fuse_call_init(&c, FUSE_GETATTR, N(vn)->nodeid, 0);
	fuse_call_arg(&c, &in, sizeof(in));
	c.reply = &out;
	c.reply_len = sizeof(out);
	long got = viofs_call(DEV(vn), &c);
	if (got < 0)
		return (int)got;
	if (fuse_attr_check(&out.attr))
		return -EIO;
	fuse_attr_to_stat(&out.attr, st);
	return 0;
}

/* ------------------------------------------------------------ directories, links */

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
	long got = viofs_call(DEV(&n->vn), &c);
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
	if ((r = viofs_node_open(n, false)))
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
	long got = viofs_call(DEV(vn), &c);
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
		got = viofs_call(DEV(vn), &c);
	}
	kmutex_unlock(&n->lock);
	return got < 0 ? (int)got : 0;
}

const struct vnode_ops viofs_ops = {
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
