/*
 * Open files and the descriptor table.  A struct file is one open(): its
 * vnode, access flags and offset; descriptors name files, and dup() makes
 * two descriptors name one file (one offset).  The table is one for the
 * whole program (every thread shares it, as threads of a Linux process
 * do), grown on demand up to the RLIMIT_NOFILE soft limit (fd_limit(),
 * 65536 unless setrlimit changes it; never above FD_MAX), under a
 * spinlock held only to read or swap a slot.  A bitmap of the slots in
 * use finds the lowest free descriptor 64 at a time, so accept() stays
 * cheap with tens of thousands of sockets open.  Reads and writes at the file's offset hold the
 * file's own sleeping lock, so two threads sharing a descriptor never use
 * one offset twice.  Path lookups are vfs.c's; system calls are lib/sys's.
 */
#include "lib/fs/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "lib/kernel/kstring.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"

static struct spinlock fd_lock;
static struct file **fds;		/* nfds slots */
static int nfds;			/* 0, or a power of two >= 64 */
static uint64_t *used;			/* nfds bits: fds[fd] != NULL */
static uint64_t *cloexec;		/* nfds bits */
static struct rlimit_nofile {
	unsigned long cur, max;
} limit = { FD_DEFAULT_LIMIT, FD_DEFAULT_LIMIT };

struct file *
file_new(struct vnode *vn, unsigned flags)
{
	struct file *f = kzalloc(sizeof(*f));

	if (!f)
		return NULL;
	f->vn = vn;
	f->refs = 1;
	f->flags = flags;
	__atomic_add_fetch(&vn->mnt->busy, 1, __ATOMIC_RELAXED);
	return f;
}

void
file_put(struct file *f)
{
	if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL))
		return;
	__atomic_sub_fetch(&f->vn->mnt->busy, 1, __ATOMIC_RELAXED);
	vn_put(f->vn);
	kfree(f);
}

struct file *
fd_get(int fd)
{
	struct file *f = NULL;

	spin_lock(&fd_lock);
	if (fd >= 0 && fd < nfds && (f = fds[fd]))
		__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	spin_unlock(&fd_lock);
	return f;
}

/* A bitmap of n bits grown to m bits (zeroed); NULL without memory. */
static uint64_t *
bits_grow(uint64_t *b, int n, int m)
{
	uint64_t *t = krealloc(b, (size_t)m / 8);

	if (t)
		memset(t + n / 64, 0, (size_t)(m - n) / 8);
	return t;
}

/* Makes slot fd exist; under fd_lock. */
static int
fd_grow(int fd)
{
	if ((unsigned long)fd >= limit.cur)
		return -EMFILE;
	if (fd < nfds)
		return 0;
	int n = nfds ? nfds : 64;
	while (n <= fd)
		n *= 2;
	struct file **t = krealloc(fds, (size_t)n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + nfds, 0, (size_t)(n - nfds) * sizeof(*t));
	fds = t;
	uint64_t *u = bits_grow(used, nfds, n);
	if (u)
		used = u;
	uint64_t *c = u ? bits_grow(cloexec, nfds, n) : NULL;
	if (!c)
		return -ENOMEM;		/* fds grew, nfds did not: harmless */
	cloexec = c;
	nfds = n;
	return 0;
}

static void
bit_set(uint64_t *b, int fd, bool on)
{
	if (on)
		b[fd / 64] |= 1ULL << (fd % 64);
	else
		b[fd / 64] &= ~(1ULL << (fd % 64));
}

/* Puts f in slot fd (which exists and is empty); under fd_lock. */
static void
fd_fill(int fd, struct file *f, bool on)
{
	fds[fd] = f;
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	bit_set(used, fd, true);
	bit_set(cloexec, fd, on);
}

/* The lowest slot >= fd not in use (nfds when every one is); under fd_lock. */
static int
fd_free_from(int fd)
{
	for (int w = fd / 64; w < nfds / 64; w++) {
		uint64_t free = ~used[w];
		if (w == fd / 64)
			free &= ~0ULL << (fd % 64);
		if (free)
			return w * 64 + __builtin_ctzll(free);
	}
	return nfds > fd ? nfds : fd;
}

int
fd_install(struct file *f, int min, bool on)
{
	int fd, r;

	spin_lock(&fd_lock);
	fd = fd_free_from(min < 0 ? 0 : min);
	if (!(r = fd_grow(fd)))
		fd_fill(fd, f, on);
	spin_unlock(&fd_lock);
	return r ? (r == -ENOMEM ? r : -EMFILE) : fd;
}

unsigned long
fd_limit(void)
{
	return __atomic_load_n(&limit.cur, __ATOMIC_RELAXED);
}

int
fd_rlimit(const unsigned long *set, unsigned long *old)
{
	int r = 0;

	spin_lock(&fd_lock);
	if (old) {
		old[0] = limit.cur;
		old[1] = limit.max;
	}
	/*
	 * Like Linux for a process with CAP_SYS_RESOURCE (the program is
	 * root): either limit may go up to FD_MAX (Linux's nr_open); the
	 * soft one never above the hard one.  Lowering the soft limit below
	 * open descriptors leaves them open (new ones get EMFILE).
	 */
	if (set && (set[0] > set[1] || set[1] > FD_MAX))
		r = -EINVAL;
	else if (set) {
		limit.cur = set[0];
		limit.max = set[1];
	}
	spin_unlock(&fd_lock);
	return r;
}

int
fd_close(int fd)
{
	struct file *f = NULL;

	spin_lock(&fd_lock);
	if (fd >= 0 && fd < nfds) {
		f = fds[fd];
		fds[fd] = NULL;
		bit_set(used, fd, false);
	}
	spin_unlock(&fd_lock);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

void
fd_close_all(void)
{
	for (int fd = 0;; fd++) {
		spin_lock(&fd_lock);
		while (fd < nfds && !(used[fd / 64] >> (fd % 64) & 1))
			fd++;
		bool more = fd < nfds;
		spin_unlock(&fd_lock);
		if (!more)
			return;
		fd_close(fd);
	}
}

int
fd_dup_to(int oldfd, int newfd, bool on)
{
	struct file *f, *prev = NULL;
	int r = 0;

	if (newfd < 0 || (unsigned long)newfd >= fd_limit())
		return -EBADF;
	spin_lock(&fd_lock);
	if (oldfd < 0 || oldfd >= nfds || !(f = fds[oldfd]))
		r = -EBADF;
	else if (!(r = fd_grow(newfd))) {
		prev = fds[newfd];
		fd_fill(newfd, f, on);
	}
	spin_unlock(&fd_lock);
	file_put(prev);
	return r ? r : newfd;
}

int
fd_get_cloexec(int fd)
{
	int r = -EBADF;

	spin_lock(&fd_lock);
	if (fd >= 0 && fd < nfds && fds[fd])
		r = (int)(cloexec[fd / 64] >> (fd % 64) & 1);
	spin_unlock(&fd_lock);
	return r;
}

int
fd_set_cloexec(int fd, bool on)
{
	int r = -EBADF;

	spin_lock(&fd_lock);
	if (fd >= 0 && fd < nfds && fds[fd]) {
		bit_set(cloexec, fd, on);
		r = 0;
	}
	spin_unlock(&fd_lock);
	return r;
}

/* ------------------------------------------------------------ I/O */

/* Files with an offset take turns on it; devices do not need to. */
static bool
positioned(const struct file *f)
{
	return f->vn->type == S_IFREG || f->vn->type == S_IFDIR ||
	       f->vn->type == S_IFBLK;
}

ssize_t
file_read(struct file *f, void *buf, size_t len, off_t *at)
{
	struct vnode *vn = f->vn;

	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (vn->type == S_IFDIR)
		return -EISDIR;
	if (!vn->ops->read)
		return -EINVAL;
	if (at)
		return *at < 0 ? -EINVAL : vn->ops->read(vn, buf, len, *at);
	if (!positioned(f))
		return vn->ops->read(vn, buf, len, 0);
	kmutex_lock(&f->pos_lock);
	ssize_t n = vn->ops->read(vn, buf, len, f->pos);
	if (n > 0)
		f->pos += n;
	kmutex_unlock(&f->pos_lock);
	return n;
}

ssize_t
file_write(struct file *f, const void *buf, size_t len, off_t *at)
{
	struct vnode *vn = f->vn;
	bool append = f->flags & O_APPEND;

	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (!vn->ops->write)
		return -EINVAL;
	if (at) {
		off_t p = *at;
		return p < 0 ? -EINVAL : vn->ops->write(vn, buf, len, &p, append);
	}
	if (!positioned(f)) {
		off_t p = 0;
		return vn->ops->write(vn, buf, len, &p, append);
	}
	kmutex_lock(&f->pos_lock);
	off_t p = f->pos;
	ssize_t n = vn->ops->write(vn, buf, len, &p, append);
	if (n >= 0)
		f->pos = p;
	kmutex_unlock(&f->pos_lock);
	return n;
}

#define SENDFILE_MAX	0x7ffff000	/* Linux's MAX_RW_COUNT: one call moves at most this */
#define SENDFILE_BOUNCE	65536		/* the buffer of the copying path */

/*
 * One step of sendfile: the bytes written (of *tried, which it sets), 0
 * at the end of in, or an error.
 */
static ssize_t
sendfile_step(struct file *out, struct file *in, off_t pos, size_t want,
	      size_t *tried, char **bounce)
{
	const struct vnode_ops *iops = in->vn->ops, *oops = out->vn->ops;
	ssize_t got, n;

	if (iops->pin && oops->send_ref) {
		const void *data;
		struct kbuf *ref;
		if ((got = iops->pin(in->vn, pos, want, &data, &ref)) <= 0)
			return got;
		*tried = (size_t)got;
		n = oops->send_ref(out->vn, data, (size_t)got, false, ref);
		kbuf_put(ref);
		return n;
	}
	if (!*bounce && !(*bounce = kmalloc(SENDFILE_BOUNCE)))
		return -ENOMEM;
	if ((got = iops->read(in->vn, *bounce, want < SENDFILE_BOUNCE ? want : SENDFILE_BOUNCE,
			      pos)) <= 0)
		return got;
	*tried = (size_t)got;
	/* Bytes read and not written are dropped: pos moves past these only. */
	return file_write(out, *bounce, (size_t)got, NULL);
}

ssize_t
file_sendfile(struct file *out, struct file *in, off_t *at, size_t count)
{
	char *bounce = NULL;
	size_t done = 0, tried = 0;
	ssize_t r = 0;

	if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if ((in->vn->type != S_IFREG && in->vn->type != S_IFBLK) || !in->vn->ops->read ||
	    (out->flags & O_APPEND))
		return -EINVAL;	/* as Linux: in must be file-like, out not appending */
	if (!at)
		kmutex_lock(&in->pos_lock);
	off_t pos = at ? *at : in->pos;
	if (count > SENDFILE_MAX)
		count = SENDFILE_MAX;
	if (count > (uint64_t)(INT64_MAX - pos))
		count = (size_t)(INT64_MAX - pos);
	while (done < count) {
		r = sendfile_step(out, in, pos, count - done, &tried, &bounce);
		if (r <= 0)
			break;
		done += (size_t)r;
		pos += r;
		if ((size_t)r < tried)
			break;	/* out took less (non-blocking, a signal): stop here */
	}
	if (at) {
		*at = pos;
	} else {
		in->pos = pos;
		kmutex_unlock(&in->pos_lock);
	}
	kfree(bounce);
	return done ? (ssize_t)done : r;
}

off_t
file_seek(struct file *f, off_t off, int whence)
{
	struct stat st;
	off_t base;

	if (!positioned(f))
		return -ESPIPE;
	kmutex_lock(&f->pos_lock);
	off_t *pos = f->vn->type == S_IFDIR ? (off_t *)&f->cookie : &f->pos;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = *pos;
		break;
	case SEEK_END:
		vfs_getattr(f->vn, &st);
		base = st.st_size;
		break;
	default:
		base = -1;
	}
	off_t r = base < 0 || (off < 0 && -off > base) ||
		  (off > 0 && base > INT64_MAX - off) ? -EINVAL : base + off;
	if (r >= 0)
		*pos = r;
	kmutex_unlock(&f->pos_lock);
	return r;
}

/* Linux's struct linux_dirent64. */
struct dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

ssize_t
file_getdents(struct file *f, void *buf, size_t len)
{
	struct vfs_dirent *ent = kmalloc(sizeof(*ent));
	size_t used = 0;
	int r = 0;

	if (!ent)
		return -ENOMEM;
	kmutex_lock(&f->pos_lock);
	for (;;) {
		uint64_t next = f->cookie;
		if ((r = vfs_readdir(f->vn, &next, ent)) <= 0)
			break;
		size_t n = kstrlen(ent->name);
		size_t rec = (offsetof(struct dirent64, d_name) + n + 1 + 7) & ~7UL;
		if (used + rec > len) {
			r = used ? 0 : -EINVAL;
			break;
		}
		struct dirent64 *d = (struct dirent64 *)((char *)buf + used);
		d->d_ino = ent->ino;
		d->d_off = (int64_t)next;
		d->d_reclen = (uint16_t)rec;
		d->d_type = ent->type;
		memcpy(d->d_name, ent->name, n + 1);
		used += rec;
		f->cookie = next;
	}
	kmutex_unlock(&f->pos_lock);
	kfree(ent);
	return r < 0 && !used ? r : (ssize_t)used;
}
