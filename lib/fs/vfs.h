/*
 * The virtual file system: vnodes, file-system types, mounts, path walk,
 * open files and the descriptor table.  A file system (ramfs, devfs, and
 * later FAT over a blkdev or a virtio-fs client) is a struct fs_type plus
 * a struct vnode_ops; it registers with vfs_register_fs() and never
 * touches the VFS's own structures.  Errors are negative errno values.
 *
 * Locking.  One sleeping lock (the namespace lock) serialises path walks
 * and every operation that reads or changes names: lookup, create, mkdir,
 * symlink, unlink, rmdir, rename, readdir, readlink, mount.  read, write,
 * readv, writev, truncate, getattr, fsync, ioctl and poll run without it,
 * concurrently with each other and with namespace operations: a file
 * system protects its own data for those.  Both may sleep (a disk), so
 * never from interrupts.
 */
#ifndef TORO_VFS_H
#define TORO_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lib/kernel/kbuf.h"
#include "lib/sched/kmutex.h"

struct vnode;
struct mount;
struct statfs;
struct poll_hook;
struct iovec;

#define VFS_NAME_MAX	255
#define VFS_PATH_MAX	4096
#define VFS_SYMLOOP_MAX	40

struct vfs_dirent {
	uint64_t ino;
	unsigned char type;		/* DT_* */
	char name[VFS_NAME_MAX + 1];
};

/*
 * What a file system implements; a NULL operation answers the error the
 * comment names.  Names are not terminated: (name, len), 1 <= len <=
 * VFS_NAME_MAX, never "." (the VFS handles it); ".." only to lookup, which
 * answers the parent (the root of the file system answers itself).  Every
 * vnode returned through *out carries a reference for the caller.
 */
struct vnode_ops {
	int (*lookup)(struct vnode *dir, const char *name, size_t len,
		      struct vnode **out);			/* ENOTDIR */
	/* mode holds the type (S_IFREG, S_IFDIR) and permission bits. */
	int (*create)(struct vnode *dir, const char *name, size_t len,
		      mode_t mode, struct vnode **out);		/* EROFS */
	int (*symlink)(struct vnode *dir, const char *name, size_t len,
		       const char *target);			/* EPERM */
	int (*unlink)(struct vnode *dir, const char *name, size_t len); /* EROFS */
	/* Fails with ENOTEMPTY unless the directory is empty. */
	int (*rmdir)(struct vnode *dir, const char *name, size_t len);	/* EROFS */
	/*
	 * Replaces the target if it exists (same kind; an empty directory
	 * for a directory).  The VFS has checked that both are on this file
	 * system and that a directory is not moved under itself.
	 */
	int (*rename)(struct vnode *odir, const char *oname, size_t olen,
		      struct vnode *ndir, const char *nname, size_t nlen); /* EROFS */
	/* Bytes read at off (0 at or past the end). */
	ssize_t (*read)(struct vnode *vn, void *buf, size_t len, off_t off); /* EINVAL */
	/*
	 * Bytes written at *pos, which moves past them; with append, at the
	 * end of the file, atomically with respect to other writers.
	 */
	ssize_t (*write)(struct vnode *vn, const void *buf, size_t len,
			 off_t *pos, bool append);		/* EINVAL */
	int (*truncate)(struct vnode *vn, off_t size);		/* EINVAL */
	/* Fills st; the VFS has zeroed it. */
	int (*getattr)(struct vnode *vn, struct stat *st);	/* required */
	/*
	 * The entry at *cookie (0 = first, "." and ".." included) and the
	 * cookie of the next; 1, or 0 at the end.
	 */
	int (*readdir)(struct vnode *dir, uint64_t *cookie,
		       struct vfs_dirent *ent);			/* ENOTDIR */
	/* Length of the target copied (not terminated), at most len. */
	ssize_t (*readlink)(struct vnode *vn, char *buf, size_t len); /* EINVAL */
	int (*fsync)(struct vnode *vn);				/* 0 */
	int (*ioctl)(struct vnode *vn, unsigned long req, void *arg); /* ENOTTY */
	/*
	 * Readiness for poll, select and epoll: the POLL* events that hold
	 * now.  With hook, first adds it to the object's wait queue
	 * (lib/fs/poll.h), which the object wakes when they may change.
	 * NULL: always readable and writable, and not for epoll (EPERM),
	 * like a regular file on Linux.
	 */
	unsigned (*poll)(struct vnode *vn, struct poll_hook *hook);
	/*
	 * readv/writev in one call, for files where splitting a vector
	 * changes the outcome (a socket: one wait, one segment); iov is
	 * checked memory.  NULL: the VFS goes segment by segment.
	 */
	ssize_t (*readv)(struct vnode *vn, const struct iovec *iov, int cnt);
	ssize_t (*writev)(struct vnode *vn, const struct iovec *iov, int cnt);
	/*
	 * sendfile() without a copy, where both ends have these (NULL: the
	 * VFS copies through a buffer).  pin: up to len of the file's bytes
	 * at off, in place: *data and a reference in *ref that keeps those
	 * bytes unchanged until it is dropped (kbuf.h); the count, 0 at or
	 * past the end.  send_ref: writes len bytes from buf like write(),
	 * keeping references on ref instead of copying; more: MSG_MORE.
	 */
	ssize_t (*pin)(struct vnode *vn, off_t off, size_t len, const void **data,
		       struct kbuf **ref);
	ssize_t (*send_ref)(struct vnode *vn, const void *buf, size_t len, bool more,
			    struct kbuf *ref);
	/* The last reference went away. */
	void (*release)(struct vnode *vn);
};

struct vnode {
	const struct vnode_ops *ops;
	struct mount *mnt;		/* the mount it belongs to */
	struct mount *covered_by;	/* a mount on this directory, or NULL */
	mode_t type;			/* S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFSOCK */
	int refs;			/* atomic */
	void *priv;			/* the file system's */
};

struct fs_type {
	const char *name;
	/*
	 * Mounts source (a device path, a tag, "none"): sets mnt->root (a
	 * vnode with one reference and mnt as its mount) and, if it likes,
	 * mnt->priv.  Every vnode it makes later names mnt too.
	 */
	int (*mount)(struct mount *mnt, const char *source, unsigned long flags,
		     const void *data);
	/* The mount is idle (no open file, no cwd, nothing under it). */
	int (*unmount)(struct mount *mnt);
	/* Fills what it knows; the VFS has zeroed st. */
	int (*statfs)(struct mount *mnt, struct statfs *st);
};

struct mount {
	const struct fs_type *type;
	struct vnode *root;		/* referenced */
	struct vnode *covered;		/* referenced; NULL for "/" */
	void *priv;
	int busy;			/* atomic: open files and cwd inside */
	unsigned dev;			/* st_dev of its files */
};

/* ------------------------------------------------------------ vfs.c */

int vfs_register_fs(const struct fs_type *type);
/* Mounts type on "/" (once, at boot). */
int vfs_mount_root(const char *type, const char *source);

static inline struct vnode *
vn_ref(struct vnode *vn)
{
	__atomic_add_fetch(&vn->refs, 1, __ATOMIC_RELAXED);
	return vn;
}
void vn_put(struct vnode *vn);
/* For file systems: a new vnode with one reference. */
void vn_init(struct vnode *vn, const struct vnode_ops *ops, struct mount *mnt,
	     mode_t type, void *priv);

/* Path lookups relative to dirfd's vnode (NULL: the working directory). */
#define VFS_NOFOLLOW	1	/* do not follow a final symlink */
#define VFS_DIRECTORY	2	/* the result must be a directory */
int vfs_resolve(struct vnode *at, const char *path, int flags, struct vnode **out);
int vfs_open_vnode(struct vnode *at, const char *path, int oflags, mode_t mode,
		   struct vnode **out);
int vfs_mkdir(struct vnode *at, const char *path, mode_t mode);
int vfs_symlink(const char *target, struct vnode *at, const char *path);
int vfs_unlink(struct vnode *at, const char *path);
int vfs_rmdir(struct vnode *at, const char *path);
int vfs_rename(struct vnode *oat, const char *opath, struct vnode *nat,
	       const char *npath, unsigned flags);
ssize_t vfs_readlink(struct vnode *at, const char *path, char *buf, size_t len);
int vfs_getattr(struct vnode *vn, struct stat *st);
int vfs_readdir(struct vnode *dir, uint64_t *cookie, struct vfs_dirent *ent);
int vfs_truncate(struct vnode *vn, off_t size);
int vfs_mount(const char *source, struct vnode *at, const char *target,
	      const char *type, unsigned long flags, const void *data);
int vfs_umount(struct vnode *at, const char *target, int flags);
int vfs_statfs(struct vnode *vn, struct statfs *st);
/* Writes back every mounted file system's changes; the first error. */
int vfs_sync_all(void);
/* The working directory (referenced), and changing it. */
struct vnode *vfs_cwd(void);
int vfs_chdir(struct vnode *dir);
/* Absolute path of the working directory into buf; its length + 1. */
ssize_t vfs_getcwd(char *buf, size_t size);

/* ------------------------------------------------------------ file.c */

struct file {
	struct vnode *vn;		/* referenced */
	int refs;			/* atomic: descriptors and callers */
	unsigned flags;			/* O_ACCMODE, O_APPEND, O_NONBLOCK, ... */
	off_t pos;			/* under pos_lock */
	uint64_t cookie;		/* readdir position */
	struct kmutex pos_lock;
};

/* The most descriptors setrlimit(RLIMIT_NOFILE) may allow (Linux's nr_open). */
#define FD_MAX			(1UL << 20)
/* RLIMIT_NOFILE at start, soft and hard: room for tens of thousands of sockets. */
#define FD_DEFAULT_LIMIT	65536UL

/* A new open file on vn (the caller's reference moves into it). */
struct file *file_new(struct vnode *vn, unsigned flags);
void file_put(struct file *f);
/* The file on fd with a reference, or NULL. */
struct file *fd_get(int fd);
/* The lowest free descriptor >= min for f (takes a reference); -EMFILE. */
int fd_install(struct file *f, int min, bool cloexec);
int fd_close(int fd);
/* Closes every descriptor (the program's end, as Linux's exit does). */
void fd_close_all(void);
/* dup2/dup3: newfd now names oldfd's file. */
int fd_dup_to(int oldfd, int newfd, bool cloexec);
int fd_get_cloexec(int fd);
/* RLIMIT_NOFILE's soft limit: descriptors are below it. */
unsigned long fd_limit(void);
/* getrlimit/setrlimit of RLIMIT_NOFILE: old gets {soft, hard} when not
 * NULL, then set (when not NULL) replaces them; -EINVAL if it is bad. */
int fd_rlimit(const unsigned long *set, unsigned long *old);
int fd_set_cloexec(int fd, bool on);

ssize_t file_read(struct file *f, void *buf, size_t len, off_t *at);
ssize_t file_write(struct file *f, const void *buf, size_t len, off_t *at);
/*
 * sendfile(): up to count bytes of in (a regular file or block device)
 * from *at (at NULL: its position, which then moves) written to out as
 * write() would; without a copy where in can lend its bytes and out take
 * them (vnode_ops.pin, send_ref), else through a buffer.  The count (0
 * at the end of in) or an error; *at moves past what was written.
 */
ssize_t file_sendfile(struct file *out, struct file *in, off_t *at, size_t count);
off_t file_seek(struct file *f, off_t off, int whence);
/* Linux dirent64 records into buf; bytes filled, 0 at the end. */
ssize_t file_getdents(struct file *f, void *buf, size_t len);

/* ------------------------------------------------------------ ramfs.c, devfs.c */

extern const struct fs_type ramfs_type, devfs_type, vfat_type;

/*
 * A device node /dev/NAME (type S_IFCHR or S_IFBLK) whose operations are
 * ops: read, write and ioctl at least; getattr may be NULL.  Before or
 * after devfs is mounted.
 */
int devfs_add(const char *name, mode_t type, unsigned rdev,
	      const struct vnode_ops *ops, void *priv);

/* Sets a ramfs node's modification time (no-op on other file systems). */
void ramfs_set_mtime(struct vnode *vn, int64_t t);

/* ------------------------------------------------------------ cpio.c */

/*
 * Unpacks a newc cpio archive into the directory at (created as needed).
 * Returns 0, or a negative errno with a reason in *why (the entries
 * before the bad one stay unpacked).
 */
int cpio_unpack(const void *data, size_t len, const char *at, const char **why);

/* ------------------------------------------------------------ rootfs.c */

struct boot_info;
/* The kernel option mount=SOURCE:DIR[:TYPE] (repeatable). */
int fs_opt_mount(const char *v);
/* Root, /dev, /tmp, the initrd, boot mounts, descriptors 0-2 (at boot). */
void fs_init(const struct boot_info *bi);

#endif
