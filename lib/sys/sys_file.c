/*
 * System calls on file descriptors: read/write and their vector and
 * positioned forms, lseek, close, dup*, fcntl, ioctl, fstat, getdents64,
 * fsync, ftruncate, fchdir, fstatfs.  Thin adapters: they check the
 * application's pointers and hand the work to lib/fs (file.c, vfs.c).
 * Calls that take a path are in sys_path.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <string.h>
#include <termios.h>

#include "lib/fs/vfs.h"
#include "lib/mm/kheap.h"
#include "lib/sys/syscall.h"

#define GATHER_MAX 65536	/* writev to a file: one write up to this */

/* Devices and sockets have no offset: pread and friends are ESPIPE. */
static bool
unseekable(const struct file *f)
{
	return f->vn->type == S_IFCHR || f->vn->type == S_IFSOCK;
}

long
sys_read(long fd, long buf, long len, long a3, long a4, long a5)
{
	if (len < 0)
		return -EINVAL;
	if (!user_ok((void *)buf, (size_t)len))
		return -EFAULT;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = file_read(f, (void *)buf, (size_t)len, NULL);
	file_put(f);
	return r;
}

long
sys_write(long fd, long buf, long len, long a3, long a4, long a5)
{
	if (len < 0)
		return -EINVAL;
	if (!user_ok((const void *)buf, (size_t)len))
		return -EFAULT;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = file_write(f, (const void *)buf, (size_t)len, NULL);
	file_put(f);
	return r;
}

long
sys_pread64(long fd, long buf, long len, long off, long a4, long a5)
{
	if (len < 0)
		return -EINVAL;
	if (!user_ok((void *)buf, (size_t)len))
		return -EFAULT;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	off_t at = off;
	long r = unseekable(f) ? -ESPIPE :
		 file_read(f, (void *)buf, (size_t)len, &at);
	file_put(f);
	return r;
}

long
sys_pwrite64(long fd, long buf, long len, long off, long a4, long a5)
{
	if (len < 0)
		return -EINVAL;
	if (!user_ok((const void *)buf, (size_t)len))
		return -EFAULT;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	off_t at = off;
	long r = unseekable(f) ? -ESPIPE :
		 file_write(f, (const void *)buf, (size_t)len, &at);
	file_put(f);
	return r;
}

long
sys_sendfile(long out_fd, long in_fd, long offp, long count, long a4, long a5)
{
	off_t *up = (off_t *)offp, at = 0;

	if (up) {
		if (!user_ok(up, sizeof(*up)))
			return -EFAULT;
		if ((at = *up) < 0)
			return -EINVAL;
	}
	struct file *out = fd_get((int)out_fd), *in = fd_get((int)in_fd);
	long r = !out || !in ? -EBADF :
		 file_sendfile(out, in, up ? &at : NULL, (size_t)count);
	if (up && r >= 0)
		*up = at;
	file_put(out);
	file_put(in);
	return r;
}

/* Segment by segment, stopping at a short transfer; at: pread/pwrite. */
static long
rw_vector(long fd, long iovp, long cnt, off_t *at, bool write)
{
	const struct iovec *iov = (const struct iovec *)iovp;
	long total = user_iov_total(iov, cnt), done = 0, r = 0;

	if (total < 0)
		return total;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	if (at && unseekable(f)) {
		file_put(f);
		return -ESPIPE;
	}
	ssize_t (*vec)(struct vnode *, const struct iovec *, int) =
		write ? f->vn->ops->writev : f->vn->ops->readv;
	if (vec && !at) {
		unsigned mode = f->flags & O_ACCMODE;
		r = mode == (write ? O_RDONLY : O_WRONLY) ? -EBADF :
		    vec(f->vn, iov, (int)cnt);
		file_put(f);
		return r;
	}
	/* One write for a file, so O_APPEND writers never interleave. */
	char *g = write && cnt > 1 && f->vn->type == S_IFREG &&
		  total <= GATHER_MAX ? kmalloc((size_t)total + 1) : NULL;
	if (g) {
		for (long i = 0; i < cnt; i++) {
			memcpy(g + done, iov[i].iov_base, iov[i].iov_len);
			done += (long)iov[i].iov_len;
		}
		r = file_write(f, g, (size_t)total, at);
		kfree(g);
		file_put(f);
		return r;
	}
	for (long i = 0; i < cnt; i++) {
		size_t len = iov[i].iov_len;
		r = write ? file_write(f, iov[i].iov_base, len, at) :
			    file_read(f, iov[i].iov_base, len, at);
		if (r < 0)
			break;
		done += r;
		if (at)
			*at += r;
		if ((size_t)r < len)
			break;
	}
	file_put(f);
	return done ? done : r;
}

long
sys_readv(long fd, long iov, long cnt, long a3, long a4, long a5)
{
	return rw_vector(fd, iov, cnt, NULL, false);
}

long
sys_writev(long fd, long iov, long cnt, long a3, long a4, long a5)
{
	return rw_vector(fd, iov, cnt, NULL, true);
}

long
sys_preadv(long fd, long iov, long cnt, long off, long a4, long a5)
{
	off_t at = off;
	return off < 0 ? -EINVAL : rw_vector(fd, iov, cnt, &at, false);
}

long
sys_pwritev(long fd, long iov, long cnt, long off, long a4, long a5)
{
	off_t at = off;
	return off < 0 ? -EINVAL : rw_vector(fd, iov, cnt, &at, true);
}

long
sys_lseek(long fd, long off, long whence, long a3, long a4, long a5)
{
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = file_seek(f, off, (int)whence);
	file_put(f);
	return r;
}

long
sys_close(long fd, long a1, long a2, long a3, long a4, long a5)
{
	return fd_close((int)fd);
}

long
sys_dup(long fd, long a1, long a2, long a3, long a4, long a5)
{
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = fd_install(f, 0, false);
	file_put(f);
	return r;
}

long
sys_dup3(long oldfd, long newfd, long flags, long a3, long a4, long a5)
{
	if (flags & ~O_CLOEXEC || oldfd == newfd)
		return -EINVAL;
	return fd_dup_to((int)oldfd, (int)newfd, flags & O_CLOEXEC);
}

long
sys_dup2(long oldfd, long newfd, long a2, long a3, long a4, long a5)
{
	if (oldfd == newfd) {
		struct file *f = fd_get((int)oldfd);
		file_put(f);
		return f ? newfd : -EBADF;
	}
	return fd_dup_to((int)oldfd, (int)newfd, false);
}

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

long
sys_fcntl(long fd, long cmd, long arg, long a3, long a4, long a5)
{
	struct file *f = fd_get((int)fd);
	long r = 0;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		r = arg < 0 || (unsigned long)arg >= fd_limit() ? -EINVAL :
		    fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
		break;
	case F_GETFD:
		r = fd_get_cloexec((int)fd);
		break;
	case F_SETFD:
		r = fd_set_cloexec((int)fd, arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		r = f->flags;
		break;
	case F_SETFL:
		__atomic_store_n(&f->flags, (f->flags & ~SETFL_MASK) | (arg & SETFL_MASK),
				 __ATOMIC_RELAXED);
		break;
	default:
		r = -EINVAL;
	}
	file_put(f);
	return r;
}

/* The bytes an ioctl's argument spans, for the pointer check. */
static size_t
ioctl_arg_size(unsigned long req)
{
	switch (req) {
	case TIOCGWINSZ:
		return sizeof(struct winsize);
	case TCGETS:
		return sizeof(struct termios);
	}
	size_t n = (req >> 16) & 0x3fff;	/* _IOC_SIZE */
	return n ? n : sizeof(long);
}

long
sys_ioctl(long fd, long req, long arg, long a3, long a4, long a5)
{
	struct file *f = fd_get((int)fd);
	long r;

	if (!f)
		return -EBADF;
	if (req == FIONBIO || req == FIOCLEX || req == FIONCLEX) {
		int on = 1;
		if (req == FIONBIO && !user_ok((void *)arg, sizeof(int)))
			r = -EFAULT;
		else if (req == FIONBIO && (on = *(int *)arg, 1))
			r = sys_fcntl(fd, F_SETFL, on ? f->flags | O_NONBLOCK :
					  f->flags & ~O_NONBLOCK, 0, 0, 0);
		else
			r = fd_set_cloexec((int)fd, req == FIOCLEX);
	} else if (!f->vn->ops->ioctl) {
		r = -ENOTTY;
	} else if (!user_ok((void *)arg, ioctl_arg_size((unsigned long)req))) {
		r = -EFAULT;
	} else {
		r = f->vn->ops->ioctl(f->vn, (unsigned long)req, (void *)arg);
	}
	file_put(f);
	return r;
}

long
sys_fstat(long fd, long st, long a2, long a3, long a4, long a5)
{
	if (!user_ok((void *)st, sizeof(struct stat)))
		return -EFAULT;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = vfs_getattr(f->vn, (struct stat *)st);
	file_put(f);
	return r;
}

long
sys_getdents64(long fd, long buf, long len, long a3, long a4, long a5)
{
	if (len < 0)
		return -EINVAL;
	if (!user_ok((void *)buf, (size_t)len))
		return -EFAULT;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = f->vn->type != S_IFDIR ? -ENOTDIR :
		 file_getdents(f, (void *)buf, (size_t)len);
	file_put(f);
	return r;
}

long
sys_sync(long a0, long a1, long a2, long a3, long a4, long a5)
{
	vfs_sync_all();
	return 0;
}

long
sys_fsync(long fd, long a1, long a2, long a3, long a4, long a5)
{
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = f->vn->ops->fsync ? f->vn->ops->fsync(f->vn) : 0;
	file_put(f);
	return r;
}

long
sys_ftruncate(long fd, long len, long a2, long a3, long a4, long a5)
{
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = (f->flags & O_ACCMODE) == O_RDONLY ? -EINVAL :
		 f->vn->type == S_IFDIR ? -EISDIR : vfs_truncate(f->vn, len);
	if (r == -EISDIR)
		r = -EINVAL;
	file_put(f);
	return r;
}

long
sys_fchdir(long fd, long a1, long a2, long a3, long a4, long a5)
{
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = vfs_chdir(f->vn);
	file_put(f);
	return r;
}

long
sys_fstatfs(long fd, long st, long a2, long a3, long a4, long a5)
{
	if (!user_ok((void *)st, sizeof(struct statfs)))
		return -EFAULT;
	struct file *f = fd_get((int)fd);
	if (!f)
		return -EBADF;
	long r = vfs_statfs(f->vn, (struct statfs *)st);
	file_put(f);
	return r;
}
