/*
 * File-descriptor calls, for the only files this kernel has so far: 0, 1
 * and 2, the serial console.  Output goes to the console sink unchanged;
 * input reads as end-of-file.  The console answers the terminal ioctls musl
 * asks (window size, termios) as a 80x24 tty would, so stdout is line
 * buffered like on a Linux console.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <termios.h>
#include <string.h>

#include "lib/kernel/printk.h"
#include "lib/sys/syscall.h"

static bool
is_console(long fd)
{
	return fd >= 0 && fd <= 2;
}

long
sys_write(long fd, long buf, long len, long a3, long a4, long a5)
{
	if (!is_console(fd))
		return -EBADF;
	if (len < 0)
		return -EINVAL;
	if (!user_ok((const void *)buf, (size_t)len))
		return -EFAULT;
	console_write((const char *)buf, (size_t)len);
	return len;
}

long
sys_writev(long fd, long iovp, long cnt, long a3, long a4, long a5)
{
	const struct iovec *iov = (const struct iovec *)iovp;
	long total = 0;

	if (!is_console(fd))
		return -EBADF;
	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	if (!user_ok(iov, (size_t)cnt * sizeof(*iov)))
		return -EFAULT;
	for (long i = 0; i < cnt; i++)
		if (!user_ok(iov[i].iov_base, iov[i].iov_len) ||
		    (long)iov[i].iov_len < 0)
			return -EFAULT;
	for (long i = 0; i < cnt; i++) {
		console_write(iov[i].iov_base, iov[i].iov_len);
		total += (long)iov[i].iov_len;
	}
	return total;
}

long
sys_read(long fd, long buf, long len, long a3, long a4, long a5)
{
	if (!is_console(fd))
		return -EBADF;
	return 0;	/* no console input yet: end of file */
}

long
sys_readv(long fd, long iov, long cnt, long a3, long a4, long a5)
{
	return sys_read(fd, 0, 0, 0, 0, 0);
}

long
sys_ioctl(long fd, long req, long arg, long a3, long a4, long a5)
{
	if (!is_console(fd))
		return -EBADF;
	switch (req) {
	case TIOCGWINSZ: {
		struct winsize *ws = (struct winsize *)arg;
		if (!user_ok(ws, sizeof(*ws)))
			return -EFAULT;
		*ws = (struct winsize){ .ws_row = 24, .ws_col = 80 };
		return 0;
	}
	case TCGETS: {
		struct termios *t = (struct termios *)arg;
		if (!user_ok(t, sizeof(*t)))
			return -EFAULT;
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

long
sys_lseek(long fd, long off, long whence, long a3, long a4, long a5)
{
	return is_console(fd) ? -ESPIPE : -EBADF;
}

long
sys_close(long fd, long a1, long a2, long a3, long a4, long a5)
{
	return is_console(fd) ? 0 : -EBADF;
}

long
sys_fcntl(long fd, long cmd, long arg, long a3, long a4, long a5)
{
	if (!is_console(fd))
		return -EBADF;
	switch (cmd) {
	case F_GETFD:
	case F_SETFD:
		return 0;
	case F_GETFL:
		return O_RDWR;
	}
	return -EINVAL;
}
