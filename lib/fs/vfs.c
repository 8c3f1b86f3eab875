/*
 * The VFS's name space: the file-system-type registry, the mount table,
 * the path walk (".", "..", symlinks, mount points), the working
 * directory and the operations that take a path (mkdir, unlink, rename,
 * mount, ...).  It knows no file system's layout: everything below a name
 * is the vnode_ops of the file system that owns it.  Open files and
 * descriptors are file.c's; the system-call adapters are lib/sys's.
 */
#include "lib/fs/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>

#include "lib/kernel/kstring.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"
#include "lib/sched/kmutex.h"

#define FS_TYPES_MAX	8
#define MOUNTS_MAX	16

static const struct fs_type *fs_types[FS_TYPES_MAX];
static struct mount mounts[MOUNTS_MAX];	/* slot 0 is "/" */
static struct kmutex ns_lock;		/* the name space (see vfs.h) */
static struct spinlock cwd_lock;
static struct vnode *cwd;

int
vfs_register_fs(const struct fs_type *type)
{
	for (int i = 0; i < FS_TYPES_MAX; i++) {
		if (fs_types[i] && !kstrcmp(fs_types[i]->name, type->name))
			return -EEXIST;
		if (!fs_types[i]) {
			fs_types[i] = type;
			return 0;
		}
	}
	return -ENOSPC;
}

static const struct fs_type *
fs_type_find(const char *name)
{
	for (int i = 0; i < FS_TYPES_MAX && fs_types[i]; i++)
		if (!kstrcmp(fs_types[i]->name, name))
			return fs_types[i];
	return NULL;
}

void
vn_init(struct vnode *vn, const struct vnode_ops *ops, struct mount *mnt,
	mode_t type, void *priv)
{
	vn->ops = ops;
	vn->mnt = mnt;
	vn->covered_by = NULL;
	vn->type = type & S_IFMT;
	vn->refs = 1;
	vn->priv = priv;
}

void
vn_put(struct vnode *vn)
{
	if (vn && __atomic_sub_fetch(&vn->refs, 1, __ATOMIC_ACQ_REL) == 0 &&
	    vn->ops->release)
		vn->ops->release(vn);
}

static struct vnode *
root_vnode(void)
{
	return mounts[0].root;
}

/* Starts a mount of type in slot m; 0 or the file system's error. */
static int
mount_slot(struct mount *m, const struct fs_type *type, const char *source,
	   unsigned long flags, const void *data)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->dev = (unsigned)(m - mounts) + 1;
	int r = type->mount(m, source ? source : "none", flags, data);
	if (r) {
		m->type = NULL;
		return r;
	}
	return 0;
}

int
vfs_mount_root(const char *type, const char *source)
{
	const struct fs_type *t = fs_type_find(type);

	if (!t)
		return -ENODEV;
	if (mounts[0].type)
		return -EBUSY;
	int r = mount_slot(&mounts[0], t, source, 0, NULL);
	if (r)
		return r;
	cwd = vn_ref(mounts[0].root);
	__atomic_add_fetch(&mounts[0].busy, 1, __ATOMIC_RELAXED);
	return 0;
}

/* ------------------------------------------------------------ path walk */

static bool
is_dot(const char *name, size_t len)
{
	return len == 1 && name[0] == '.';
}

static bool
is_dotdot(const char *name, size_t len)
{
	return len == 2 && name[0] == '.' && name[1] == '.';
}

/* vn, or the root of whatever is mounted on it (a reference moves). */
static struct vnode *
cross_mounts(struct vnode *vn)
{
	while (vn->covered_by) {
		struct vnode *r = vn_ref(vn->covered_by->root);
		vn_put(vn);
		vn = r;
	}
	return vn;
}

/* The entry (name, len) of dir, referenced, mounts crossed. */
static int
step(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	if (is_dot(name, len)) {
		*out = vn_ref(dir);
		return 0;
	}
	if (is_dotdot(name, len)) {
		if (dir == root_vnode()) {
			*out = vn_ref(dir);
			return 0;
		}
		/* Mounts cannot change under ns_lock: no references needed. */
		while (dir == dir->mnt->root && dir->mnt->covered)
			dir = dir->mnt->covered;
	}
	if (!dir->ops->lookup)
		return -ENOTDIR;
	int r = dir->ops->lookup(dir, name, len, out);
	if (r)
		return r;
	*out = cross_mounts(*out);
	return 0;
}

struct walk {
	struct vnode *dir;	/* referenced */
	const char *name;	/* final component, or NULL for "/" */
	size_t len;
	bool slash;		/* the path ended with '/' */
};

static int walk_path(struct vnode *at, const char *path, int flags, int depth,
		     struct vnode **out, struct walk *parent);

/* Replaces *vn, a symlink found in dir, with what it points to. */
static int
follow(struct vnode *dir, struct vnode **vn, int depth)
{
	if (depth >= VFS_SYMLOOP_MAX)
		return -ELOOP;
	char *buf = kmalloc(VFS_PATH_MAX);
	if (!buf)
		return -ENOMEM;
	ssize_t n = (*vn)->ops->readlink ?
		    (*vn)->ops->readlink(*vn, buf, VFS_PATH_MAX - 1) : -EINVAL;
	int r = n < 0 ? (int)n : n == 0 ? -ENOENT : 0;
	if (!r) {
		buf[n] = 0;
		struct vnode *t;
		r = walk_path(dir, buf, 0, depth + 1, &t, NULL);
		if (!r) {
			vn_put(*vn);
			*vn = t;
		}
	}
	kfree(buf);
	return r;
}

/*
 * Walks path from at (under ns_lock).  With parent set, stops before the
 * final component and describes it there; otherwise *out is the vnode
 * the path names, referenced.
 */
static int
walk_path(struct vnode *at, const char *path, int flags, int depth,
	  struct vnode **out, struct walk *parent)
{
	if (!*path)
		return -ENOENT;
	struct vnode *vn = vn_ref(path[0] == '/' ? root_vnode() : at);
	const char *p = path;
	int r = 0;

	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - c);
		if (len > VFS_NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		const char *rest = p;
		while (*rest == '/')
			rest++;
		bool final = !*rest, slash = final && *p == '/';
		if (final && parent) {
			if (vn->type != S_IFDIR) {
				r = -ENOTDIR;
				break;
			}
			*parent = (struct walk){ vn, c, len, slash };
			return 0;
		}
		struct vnode *next;
		if ((r = step(vn, c, len, &next)))
			break;
		if (next->type == S_IFLNK &&
		    (!final || slash || !(flags & VFS_NOFOLLOW)) &&
		    (r = follow(vn, &next, depth))) {
			vn_put(next);
			break;
		}
		vn_put(vn);
		vn = next;
		if (slash && vn->type != S_IFDIR) {
			r = -ENOTDIR;
			break;
		}
	}
	if (!r && (flags & VFS_DIRECTORY) && vn->type != S_IFDIR)
		r = -ENOTDIR;
	if (r) {
		vn_put(vn);
		return r;
	}
	if (parent) {		/* "/" or "a/..": no final name */
		*parent = (struct walk){ vn, NULL, 0, true };
		return 0;
	}
	*out = vn;
	return 0;
}

/* Runs under ns_lock with at (or the working directory) referenced. */
static struct vnode *
lock_at(struct vnode *at)
{
	at = at ? vn_ref(at) : vfs_cwd();
	kmutex_lock(&ns_lock);
	return at;
}

static void
unlock_at(struct vnode *at)
{
	kmutex_unlock(&ns_lock);
	vn_put(at);
}

int
vfs_resolve(struct vnode *at, const char *path, int flags, struct vnode **out)
{
	at = lock_at(at);
	int r = walk_path(at, path, flags, 0, out, NULL);
	unlock_at(at);
	return r;
}

static int
walk_parent(struct vnode *at, const char *path, struct walk *w)
{
	return walk_path(at, path, 0, 0, NULL, w);
}

/* The existing entry the final component names (. and .. included). */
static int
walk_last(struct walk *w, struct vnode **out)
{
	if (!w->name) {
		*out = vn_ref(w->dir);
		return 0;
	}
	return step(w->dir, w->name, w->len, out);
}

static bool
is_special(const struct walk *w)
{
	return !w->name || is_dot(w->name, w->len) || is_dotdot(w->name, w->len);
}

/* O_CREAT: the final component exists, or is made a regular file. */
static int
open_create(struct vnode *at, const char *path, int oflags, mode_t mode,
	    struct vnode **out)
{
	struct walk w;
	int r = walk_parent(at, path, &w);

	if (r)
		return r;
	r = walk_last(&w, out);
	if (r == -ENOENT) {
		if (w.slash)
			r = -EISDIR;
		else if (!w.dir->ops->create)
			r = -EROFS;
		else
			r = w.dir->ops->create(w.dir, w.name, w.len,
					       S_IFREG | (mode & 07777), out);
	} else if (!r && (oflags & O_EXCL)) {
		vn_put(*out);
		r = -EEXIST;
	} else if (!r && (*out)->type == S_IFLNK && !(oflags & O_NOFOLLOW)) {
		r = follow(w.dir, out, 0);
		if (r)
			vn_put(*out);
	}
	vn_put(w.dir);
	return r;
}

int
vfs_open_vnode(struct vnode *at, const char *path, int oflags, mode_t mode,
	       struct vnode **out)
{
	int r;
	struct vnode *vn = NULL;

	at = lock_at(at);
	if (oflags & O_CREAT)
		r = open_create(at, path, oflags, mode, &vn);
	else
		r = walk_path(at, path,
			      (oflags & O_NOFOLLOW ? VFS_NOFOLLOW : 0) |
			      (oflags & O_DIRECTORY ? VFS_DIRECTORY : 0),
			      0, &vn, NULL);
	if (!r) {
		int acc = oflags & O_ACCMODE;
		if (vn->type == S_IFLNK)
			r = -ELOOP;
		else if ((oflags & O_DIRECTORY) && vn->type != S_IFDIR)
			r = -ENOTDIR;
		else if (vn->type == S_IFDIR && (acc != O_RDONLY || (oflags & O_CREAT)))
			r = -EISDIR;
		else if ((oflags & O_TRUNC) && acc != O_RDONLY && vn->type == S_IFREG)
			r = vfs_truncate(vn, 0);
		if (r)
			vn_put(vn);
	}
	unlock_at(at);
	if (!r)
		*out = vn;
	return r;
}

int
vfs_mkdir(struct vnode *at, const char *path, mode_t mode)
{
	struct walk w;
	struct vnode *vn;
	int r;

	at = lock_at(at);
	if (!(r = walk_parent(at, path, &w))) {
		if (is_special(&w) || !(r = step(w.dir, w.name, w.len, &vn))) {
			if (!is_special(&w))
				vn_put(vn);
			r = -EEXIST;
		} else if (r == -ENOENT) {
			r = w.dir->ops->create ?
			    w.dir->ops->create(w.dir, w.name, w.len,
					       S_IFDIR | (mode & 07777), &vn) : -EROFS;
			if (!r)
				vn_put(vn);
		}
		vn_put(w.dir);
	}
	unlock_at(at);
	return r;
}

int
vfs_symlink(const char *target, struct vnode *at, const char *path)
{
	struct walk w;
	struct vnode *vn;
	int r;

	if (!*target)
		return -ENOENT;
	at = lock_at(at);
	if (!(r = walk_parent(at, path, &w))) {
		if (is_special(&w) || !(r = step(w.dir, w.name, w.len, &vn))) {
			if (!is_special(&w))
				vn_put(vn);
			r = -EEXIST;
		} else if (r == -ENOENT) {
			r = w.dir->ops->symlink ?
			    w.dir->ops->symlink(w.dir, w.name, w.len, target) : -EPERM;
		}
		vn_put(w.dir);
	}
	unlock_at(at);
	return r;
}

/* A mount point or the root of a mount cannot be removed or renamed. */
static bool
in_use_by_mount(const struct vnode *vn)
{
	return vn->covered_by || vn == vn->mnt->root;
}

/* unlink (dir false) or rmdir (dir true) of path's final component. */
static int
remove_name(struct vnode *at, const char *path, bool dir)
{
	struct walk w;
	struct vnode *vn;
	int r;

	at = lock_at(at);
	if ((r = walk_parent(at, path, &w)))
		goto out;
	if (is_special(&w)) {
		r = !dir ? -EISDIR : !w.name ? -EBUSY :
		    is_dot(w.name, w.len) ? -EINVAL : -ENOTEMPTY;
	} else if (!(r = walk_last(&w, &vn))) {
		if (dir && vn->type != S_IFDIR)
			r = -ENOTDIR;
		else if (!dir && vn->type == S_IFDIR)
			r = -EISDIR;
		else if (!dir && w.slash)
			r = -ENOTDIR;
		else if (in_use_by_mount(vn))
			r = -EBUSY;
		else if (dir)
			r = w.dir->ops->rmdir ?
			    w.dir->ops->rmdir(w.dir, w.name, w.len) : -EROFS;
		else
			r = w.dir->ops->unlink ?
			    w.dir->ops->unlink(w.dir, w.name, w.len) : -EROFS;
		vn_put(vn);
	}
	vn_put(w.dir);
out:
	unlock_at(at);
	return r;
}

int
vfs_unlink(struct vnode *at, const char *path)
{
	return remove_name(at, path, false);
}

int
vfs_rmdir(struct vnode *at, const char *path)
{
	return remove_name(at, path, true);
}

/* Whether dir is vn or lies below it (on vn's mount). */
static bool
is_below(struct vnode *dir, struct vnode *vn)
{
	struct vnode *d = vn_ref(dir);
	bool below = false;

	for (;;) {
		if (d == vn) {
			below = true;
			break;
		}
		struct vnode *up;
		if (d == d->mnt->root || d->ops->lookup(d, "..", 2, &up))
			break;
		vn_put(d);
		d = up;
	}
	vn_put(d);
	return below;
}

static int
rename_checked(struct walk *o, struct walk *n)
{
	struct vnode *ov, *nv = NULL;
	int r;

	if (is_special(o) || is_special(n))
		return -EBUSY;
	if ((r = walk_last(o, &ov)))
		return r;
	r = step(n->dir, n->name, n->len, &nv);
	if (r == -ENOENT)
		nv = NULL, r = 0;
	if (r)
		goto out;
	if (o->dir->mnt != n->dir->mnt)
		r = -EXDEV;
	else if (in_use_by_mount(ov) || (nv && in_use_by_mount(nv)))
		r = -EBUSY;
	else if (ov->type != S_IFDIR && (o->slash || n->slash))
		r = -ENOTDIR;
	else if (ov->type == S_IFDIR && is_below(n->dir, ov))
		r = -EINVAL;
	else if (nv == ov)
		r = 0;
	else if (nv && ov->type == S_IFDIR && nv->type != S_IFDIR)
		r = -ENOTDIR;
	else if (nv && ov->type != S_IFDIR && nv->type == S_IFDIR)
		r = -EISDIR;
	else
		r = o->dir->ops->rename ?
		    o->dir->ops->rename(o->dir, o->name, o->len,
					n->dir, n->name, n->len) : -EROFS;
out:
	vn_put(nv);
	vn_put(ov);
	return r;
}

int
vfs_rename(struct vnode *oat, const char *opath, struct vnode *nat,
	   const char *npath, unsigned flags)
{
	struct walk o, n;
	int r;

	if (flags)
		return -EINVAL;
	nat = nat ? vn_ref(nat) : vfs_cwd();
	oat = lock_at(oat);
	if (!(r = walk_parent(oat, opath, &o))) {
		if (!(r = walk_parent(nat, npath, &n))) {
			r = rename_checked(&o, &n);
			vn_put(n.dir);
		}
		vn_put(o.dir);
	}
	unlock_at(oat);
	vn_put(nat);
	return r;
}

ssize_t
vfs_readlink(struct vnode *at, const char *path, char *buf, size_t len)
{
	struct vnode *vn;
	ssize_t r;

	at = lock_at(at);
	if (!(r = walk_path(at, path, VFS_NOFOLLOW, 0, &vn, NULL))) {
		r = vn->type == S_IFLNK && vn->ops->readlink ?
		    vn->ops->readlink(vn, buf, len) : -EINVAL;
		vn_put(vn);
	}
	unlock_at(at);
	return r;
}

int
vfs_getattr(struct vnode *vn, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	int r = vn->ops->getattr(vn, st);
	st->st_dev = vn->mnt->dev;
	st->st_mode = (st->st_mode & ~S_IFMT) | vn->type;
	if (!st->st_blksize)
		st->st_blksize = 4096;
	if (!st->st_nlink)
		st->st_nlink = 1;
	return r;
}

int
vfs_readdir(struct vnode *dir, uint64_t *cookie, struct vfs_dirent *ent)
{
	if (dir->type != S_IFDIR || !dir->ops->readdir)
		return -ENOTDIR;
	kmutex_lock(&ns_lock);
	int r = dir->ops->readdir(dir, cookie, ent);
	kmutex_unlock(&ns_lock);
	return r;
}

int
vfs_truncate(struct vnode *vn, off_t size)
{
	if (vn->type == S_IFDIR)
		return -EISDIR;
	if (vn->type != S_IFREG || size < 0)
		return -EINVAL;
	return vn->ops->truncate ? vn->ops->truncate(vn, size) : -EINVAL;
}

/* ------------------------------------------------------------ mounts */

int
vfs_mount(const char *source, struct vnode *at, const char *target,
	  const char *type, unsigned long flags, const void *data)
{
	const struct fs_type *t = fs_type_find(type);
	struct vnode *vn;
	int r;

	if (!t)
		return -ENODEV;
	at = lock_at(at);
	if ((r = walk_path(at, target, VFS_DIRECTORY, 0, &vn, NULL)))
		goto out;
	struct mount *m = NULL;
	for (int i = 1; i < MOUNTS_MAX && !m; i++)
		if (!mounts[i].type)
			m = &mounts[i];
	if (vn->covered_by)
		r = -EBUSY;
	else if (!m)
		r = -ENOSPC;
	else if (!(r = mount_slot(m, t, source, flags, data))) {
		m->covered = vn_ref(vn);
		vn->covered_by = m;
	}
	vn_put(vn);
out:
	unlock_at(at);
	return r;
}

/*
 * Writes every mounted file system's cached changes back (its root's
 * fsync: the file systems with a cache, FAT, sync the whole volume from
 * any of their files).  For sync(2) and before the program's exit stops
 * the machine, so that nothing written is lost.
 */
int
vfs_sync_all(void)
{
	int err = 0;

	kmutex_lock(&ns_lock);		/* no mount comes or goes meanwhile */
	for (unsigned i = 0; i < MOUNTS_MAX; i++) {
		struct mount *m = &mounts[i];
		if (m->type && m->root && m->root->ops->fsync) {
			int r = m->root->ops->fsync(m->root);
			if (r && !err)
				err = r;
		}
	}
	kmutex_unlock(&ns_lock);
	return err;
}

int
vfs_umount(struct vnode *at, const char *target, int flags)
{
	struct vnode *vn;
	int r;

	if (flags & ~15)	/* MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW */
		return -EINVAL;
	at = lock_at(at);
	if ((r = walk_path(at, target, flags & 8 ? VFS_NOFOLLOW : 0, 0, &vn, NULL)))
		goto out;
	struct mount *m = vn->mnt;
	if (vn != m->root)
		r = -EINVAL;
	else if (m == &mounts[0] || __atomic_load_n(&m->busy, __ATOMIC_RELAXED))
		r = -EBUSY;
	for (int i = 1; i < MOUNTS_MAX && !r; i++)
		if (mounts[i].type && mounts[i].covered->mnt == m)
			r = -EBUSY;
	vn_put(vn);
	if (!r && m->type->unmount)
		r = m->type->unmount(m);
	if (!r) {
		m->covered->covered_by = NULL;
		vn_put(m->covered);
		vn_put(m->root);
		m->type = NULL;
	}
out:
	unlock_at(at);
	return r;
}

int
vfs_statfs(struct vnode *vn, struct statfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_namelen = VFS_NAME_MAX;
	st->f_fsid.__val[0] = (int)vn->mnt->dev;
	return vn->mnt->type->statfs ? vn->mnt->type->statfs(vn->mnt, st) : 0;
}

/* ------------------------------------------------------------ cwd */

struct vnode *
vfs_cwd(void)
{
	spin_lock(&cwd_lock);
	struct vnode *vn = vn_ref(cwd);
	spin_unlock(&cwd_lock);
	return vn;
}

int
vfs_chdir(struct vnode *dir)
{
	if (dir->type != S_IFDIR)
		return -ENOTDIR;
	__atomic_add_fetch(&vn_ref(dir)->mnt->busy, 1, __ATOMIC_RELAXED);
	spin_lock(&cwd_lock);
	struct vnode *old = cwd;
	cwd = dir;
	spin_unlock(&cwd_lock);
	__atomic_sub_fetch(&old->mnt->busy, 1, __ATOMIC_RELAXED);
	vn_put(old);
	return 0;
}

/* The inode number of vn, as its directory entries report it. */
static uint64_t
ino_of(struct vnode *vn)
{
	struct stat st;

	vfs_getattr(vn, &st);
	return st.st_ino;
}

/* Puts "/name" of vn (found in its parent) before buf[*at]; ref moves up. */
static int
name_in_parent(struct vnode **vn, char *buf, size_t *at)
{
	struct vnode *d = *vn, *up;

	while (d == d->mnt->root && d->mnt->covered)
		d = d->mnt->covered;
	uint64_t ino = ino_of(d);
	int r = d->ops->lookup(d, "..", 2, &up);
	if (r)
		return r;
	struct vfs_dirent ent;
	uint64_t cookie = 0;
	while ((r = up->ops->readdir(up, &cookie, &ent)) == 1) {
		size_t n = kstrlen(ent.name);
		if (ent.ino != ino || is_dot(ent.name, n) || is_dotdot(ent.name, n))
			continue;
		if (n + 1 > *at) {
			r = -ERANGE;
			break;
		}
		*at -= n;
		memcpy(buf + *at, ent.name, n);
		buf[--*at] = '/';
		vn_put(*vn);
		*vn = up;
		return 0;
	}
	vn_put(up);
	return r < 0 ? r : -ENOENT;	/* removed: no name leads to it */
}

ssize_t
vfs_getcwd(char *buf, size_t size)
{
	char *tmp = kmalloc(VFS_PATH_MAX);
	size_t at = VFS_PATH_MAX - 1;
	int r = 0;

	if (!tmp)
		return -ENOMEM;
	tmp[at] = 0;
	struct vnode *c = lock_at(NULL), *vn = vn_ref(c);
	while (!r && vn != root_vnode())
		r = name_in_parent(&vn, tmp, &at);
	vn_put(vn);
	unlock_at(c);
	if (!r && at == VFS_PATH_MAX - 1)
		tmp[--at] = '/';
	size_t len = VFS_PATH_MAX - at;
	if (!r && len > size)
		r = -ERANGE;
	if (!r)
		memcpy(buf, tmp + at, len);
	kfree(tmp);
	return r ? r : (ssize_t)len;
}
