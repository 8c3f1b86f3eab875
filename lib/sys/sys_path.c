/*
 * System calls that take a path: open and the *at family, stat, mkdir,
 * unlink, rmdir, rename, symlink, readlink, access, truncate, chdir,
 * getcwd, mount, umount2, statfs.  Each copies the path out of the
 * application (checked, at most PATH_MAX bytes), turns a directory
 * descriptor into its vnode and calls vfs.c.  Calls on descriptors are
 * in sys_file.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <string.h>
#include <unistd.h>

#include "lib/fs/vfs.h"
#include "lib/mm/kheap.h"
#include "lib/sys/syscall.h"

/* A copy of the application's path (free with kfree), or NULL and *err. */
static char *
path_in(long up, long *err)
{
	const char *u = (const char *)up;
	char *p;

	if (!user_ok(u, 1)) {
		*err = -EFAULT;
		return NULL;
	}
	if (!(p = kmalloc(VFS_PATH_MAX))) {
		*err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < VFS_PATH_MAX; i++) {
		/* Check each new page before reading from it. */
		if (((uintptr_t)(u + i) & 4095) == 0 && !user_ok(u + i, 1))
			break;
		if (!(p[i] = u[i]))
			return p;
	}
	kfree(p);
	*err = user_ok(u, VFS_PATH_MAX) ? -ENAMETOOLONG : -EFAULT;
	return NULL;
}

/*
 * The vnode a *at call starts from: NULL for AT_FDCWD or an absolute
 * path, else dirfd's directory (referenced).
 */
static long
dir_at(long dirfd, const char *path, struct vnode **at)
{
	*at = NULL;
	if ((int)dirfd == AT_FDCWD || path[0] == '/')
		return 0;
	struct file *f = fd_get((int)dirfd);
	if (!f)
		return -EBADF;
	long r = f->vn->type == S_IFDIR ? 0 : -ENOTDIR;
	if (!r)
		*at = vn_ref(f->vn);
	file_put(f);
	return r;
}

/* Copies upath and finds its starting vnode; 0 or a negative errno. */
static long
begin(long dirfd, long upath, char **path, struct vnode **at)
{
	long r = 0;

	if (!(*path = path_in(upath, &r)))
		return r;
	if ((r = dir_at(dirfd, *path, at))) {
		kfree(*path);
		*path = NULL;
	}
	return r;
}

static void
end(char *path, struct vnode *at)
{
	kfree(path);
	vn_put(at);
}

#define OPEN_KEEP (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | \
		   O_DIRECT | O_NOATIME | O_LARGEFILE | O_PATH | O_DIRECTORY)

long
sys_openat(long dirfd, long upath, long flags, long mode, long a4, long a5)
{
	struct vnode *at, *vn;
	char *path;
	long r = begin(dirfd, upath, &path, &at);

	if (r)
		return r;
	if ((flags & O_ACCMODE) == O_ACCMODE)
		r = -EINVAL;
	else
		r = vfs_open_vnode(at, path, (int)flags, (mode_t)mode, &vn);
	end(path, at);
	if (r)
		return r;
	struct file *f = file_new(vn, (unsigned)flags & OPEN_KEEP);
	if (!f) {
		vn_put(vn);
		return -ENOMEM;
	}
	r = fd_install(f, 0, flags & O_CLOEXEC);
	file_put(f);
	return r;
}

long
sys_open(long upath, long flags, long mode, long a3, long a4, long a5)
{
	return sys_openat(AT_FDCWD, upath, flags, mode, 0, 0);
}

long
sys_creat(long upath, long mode, long a2, long a3, long a4, long a5)
{
	return sys_openat(AT_FDCWD, upath, O_CREAT | O_WRONLY | O_TRUNC, mode, 0, 0);
}

/* stat, lstat, fstatat and statx into a kernel buffer. */
static long
stat_at(long dirfd, long upath, struct stat *st, long flags)
{
	struct vnode *at, *vn = NULL;
	char *path;
	long r;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	if ((flags & AT_EMPTY_PATH) && user_ok((void *)upath, 1) &&
	    !*(const char *)upath) {
		if ((int)dirfd == AT_FDCWD) {
			vn = vfs_cwd();
		} else {
			struct file *f = fd_get((int)dirfd);
			if (!f)
				return -EBADF;
			vn = vn_ref(f->vn);
			file_put(f);
		}
	} else {
		if ((r = begin(dirfd, upath, &path, &at)))
			return r;
		r = vfs_resolve(at, path,
				flags & AT_SYMLINK_NOFOLLOW ? VFS_NOFOLLOW : 0, &vn);
		end(path, at);
		if (r)
			return r;
	}
	r = vfs_getattr(vn, st);
	vn_put(vn);
	return r;
}

long
sys_newfstatat(long dirfd, long upath, long st, long flags, long a4, long a5)
{
	if (!user_ok((void *)st, sizeof(struct stat)))
		return -EFAULT;
	return stat_at(dirfd, upath, (struct stat *)st, flags);
}

long
sys_stat(long upath, long st, long a2, long a3, long a4, long a5)
{
	return sys_newfstatat(AT_FDCWD, upath, st, 0, 0, 0);
}

long
sys_lstat(long upath, long st, long a2, long a3, long a4, long a5)
{
	return sys_newfstatat(AT_FDCWD, upath, st, AT_SYMLINK_NOFOLLOW, 0, 0);
}

/* Linux's struct statx (musl 1.2.3 has no header for it). */
struct statx_ts {
	int64_t tv_sec;
	uint32_t tv_nsec, pad;
};
struct statx_buf {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad1;
	uint64_t ino, size, blocks, attributes_mask;
	struct statx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};

long
sys_statx(long dirfd, long upath, long flags, long mask, long ubuf, long a5)
{
	struct stat st;
	struct statx_buf *x = (struct statx_buf *)ubuf;

	if (!user_ok(x, sizeof(*x)))
		return -EFAULT;
	long r = stat_at(dirfd, upath, &st,
			 flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH));
	if (r)
		return r;
	memset(x, 0, sizeof(*x));
	x->mask = 0x7ff;	/* STATX_BASIC_STATS */
	x->blksize = (uint32_t)st.st_blksize;
	x->nlink = (uint32_t)st.st_nlink;
	x->mode = (uint16_t)st.st_mode;
	x->ino = st.st_ino;
	x->size = (uint64_t)st.st_size;
	x->blocks = (uint64_t)st.st_blocks;
	x->atime.tv_sec = st.st_atim.tv_sec;
	x->mtime.tv_sec = st.st_mtim.tv_sec;
	x->ctime.tv_sec = st.st_ctim.tv_sec;
	x->rdev_major = (uint32_t)(st.st_rdev >> 8) & 0xfff;
	x->rdev_minor = (uint32_t)(st.st_rdev & 0xff);
	x->dev_minor = (uint32_t)st.st_dev;
	return 0;
}

long
sys_mkdirat(long dirfd, long upath, long mode, long a3, long a4, long a5)
{
	struct vnode *at;
	char *path;
	long r = begin(dirfd, upath, &path, &at);

	if (!r) {
		r = vfs_mkdir(at, path, (mode_t)mode);
		end(path, at);
	}
	return r;
}

long
sys_mkdir(long upath, long mode, long a2, long a3, long a4, long a5)
{
	return sys_mkdirat(AT_FDCWD, upath, mode, 0, 0, 0);
}

long
sys_unlinkat(long dirfd, long upath, long flags, long a3, long a4, long a5)
{
	struct vnode *at;
	char *path;
	long r;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	if ((r = begin(dirfd, upath, &path, &at)))
		return r;
	r = flags ? vfs_rmdir(at, path) : vfs_unlink(at, path);
	end(path, at);
	return r;
}

long
sys_unlink(long upath, long a1, long a2, long a3, long a4, long a5)
{
	return sys_unlinkat(AT_FDCWD, upath, 0, 0, 0, 0);
}

long
sys_rmdir(long upath, long a1, long a2, long a3, long a4, long a5)
{
	return sys_unlinkat(AT_FDCWD, upath, AT_REMOVEDIR, 0, 0, 0);
}

long
sys_renameat2(long odirfd, long uold, long ndirfd, long unew, long flags, long a5)
{
	struct vnode *oat, *nat;
	char *opath, *npath;
	long r;

	if ((r = begin(odirfd, uold, &opath, &oat)))
		return r;
	if (!(r = begin(ndirfd, unew, &npath, &nat))) {
		r = vfs_rename(oat, opath, nat, npath, (unsigned)flags);
		end(npath, nat);
	}
	end(opath, oat);
	return r;
}

long
sys_renameat(long odirfd, long uold, long ndirfd, long unew, long a4, long a5)
{
	return sys_renameat2(odirfd, uold, ndirfd, unew, 0, 0);
}

long
sys_rename(long uold, long unew, long a2, long a3, long a4, long a5)
{
	return sys_renameat2(AT_FDCWD, uold, AT_FDCWD, unew, 0, 0);
}

long
sys_symlinkat(long utarget, long dirfd, long upath, long a3, long a4, long a5)
{
	struct vnode *at;
	char *target, *path;
	long r = 0;

	if (!(target = path_in(utarget, &r)))
		return r;
	if (!(r = begin(dirfd, upath, &path, &at))) {
		r = vfs_symlink(target, at, path);
		end(path, at);
	}
	kfree(target);
	return r;
}

long
sys_symlink(long utarget, long upath, long a2, long a3, long a4, long a5)
{
	return sys_symlinkat(utarget, AT_FDCWD, upath, 0, 0, 0);
}

long
sys_readlinkat(long dirfd, long upath, long buf, long len, long a4, long a5)
{
	struct vnode *at;
	char *path;
	long r;

	if (len <= 0)
		return -EINVAL;
	if (!user_ok((void *)buf, (size_t)len))
		return -EFAULT;
	if ((r = begin(dirfd, upath, &path, &at)))
		return r;
	r = vfs_readlink(at, path, (char *)buf, (size_t)len);
	end(path, at);
	return r;
}

long
sys_readlink(long upath, long buf, long len, long a3, long a4, long a5)
{
	return sys_readlinkat(AT_FDCWD, upath, buf, len, 0, 0);
}

long
sys_faccessat2(long dirfd, long upath, long mode, long flags, long a4, long a5)
{
	struct vnode *at, *vn;
	struct stat st;
	char *path;
	long r;

	if (mode & ~(R_OK | W_OK | X_OK) ||
	    flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if ((r = begin(dirfd, upath, &path, &at)))
		return r;
	r = vfs_resolve(at, path, flags & AT_SYMLINK_NOFOLLOW ? VFS_NOFOLLOW : 0, &vn);
	end(path, at);
	if (r)
		return r;
	vfs_getattr(vn, &st);
	vn_put(vn);
	/* The application is root: only execution needs a permission bit. */
	if ((mode & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
		return -EACCES;
	return 0;
}

long
sys_faccessat(long dirfd, long upath, long mode, long a3, long a4, long a5)
{
	return sys_faccessat2(dirfd, upath, mode, 0, 0, 0);
}

long
sys_access(long upath, long mode, long a2, long a3, long a4, long a5)
{
	return sys_faccessat2(AT_FDCWD, upath, mode, 0, 0, 0);
}

long
sys_truncate(long upath, long len, long a2, long a3, long a4, long a5)
{
	struct vnode *at, *vn;
	char *path;
	long r;

	if ((r = begin(AT_FDCWD, upath, &path, &at)))
		return r;
	r = vfs_resolve(at, path, 0, &vn);
	end(path, at);
	if (!r) {
		r = vfs_truncate(vn, len);
		vn_put(vn);
	}
	return r;
}

long
sys_chdir(long upath, long a1, long a2, long a3, long a4, long a5)
{
	struct vnode *at, *vn;
	char *path;
	long r;

	if ((r = begin(AT_FDCWD, upath, &path, &at)))
		return r;
	r = vfs_resolve(at, path, VFS_DIRECTORY, &vn);
	end(path, at);
	if (!r) {
		r = vfs_chdir(vn);
		vn_put(vn);
	}
	return r;
}

long
sys_getcwd(long buf, long size, long a2, long a3, long a4, long a5)
{
	if (!user_ok((void *)buf, (size_t)size))
		return -EFAULT;
	return size <= 0 ? -ERANGE : vfs_getcwd((char *)buf, (size_t)size);
}

long
sys_mount(long usource, long utarget, long utype, long flags, long data, long a5)
{
	char *source = NULL, *type, *target;
	long r = 0;

	if (flags & (MS_REMOUNT | MS_BIND | MS_MOVE | MS_SHARED | MS_PRIVATE |
		     MS_SLAVE | MS_UNBINDABLE))
		return -EINVAL;
	if (usource && !(source = path_in(usource, &r)))
		return r;
	if ((type = path_in(utype, &r))) {
		if ((target = path_in(utarget, &r))) {
			r = vfs_mount(source, NULL, target, type,
				      (unsigned long)flags, (const void *)data);
			kfree(target);
		}
		kfree(type);
	}
	kfree(source);
	return r;
}

long
sys_umount2(long utarget, long flags, long a2, long a3, long a4, long a5)
{
	char *target;
	long r = 0;

	if (!(target = path_in(utarget, &r)))
		return r;
	r = vfs_umount(NULL, target, (int)flags);
	kfree(target);
	return r;
}

long
sys_statfs(long upath, long st, long a2, long a3, long a4, long a5)
{
	struct vnode *at, *vn;
	char *path;
	long r;

	if (!user_ok((void *)st, sizeof(struct statfs)))
		return -EFAULT;
	if ((r = begin(AT_FDCWD, upath, &path, &at)))
		return r;
	r = vfs_resolve(at, path, 0, &vn);
	end(path, at);
	if (!r) {
		r = vfs_statfs(vn, (struct statfs *)st);
		vn_put(vn);
	}
	return r;
}
