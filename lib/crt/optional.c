/*
 * The calls that bring optional kernel pieces into an image: socket()
 * and socketpair() (the socket layer and TCP), epoll_create(),
 * epoll_create1() and eventfd() (epoll sets, eventfds).  They are
 * defined here under musl's names so that the link takes these and not
 * libc.a's (as lib/mm/malloc.c does for the allocator), and make the
 * same system calls musl would, through musl's syscall().  What they add
 * is a reference to the kernel's adapters: syscall.c refers to those only
 * weakly, so a program that never makes a socket, an epoll set or an
 * eventfd (a hello world) carries none of that code.  Every other call
 * of those families needs such a descriptor first, so these are the only
 * entry points.
 */
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

long sys_socket(long domain, long type, long protocol, long, long, long);
long sys_epoll_create1(long flags, long, long, long, long, long);
void net_init(void);
struct virtio_dev;
int virtio_net_attach(struct virtio_dev *d);

/*
 * The references that bring sys_net.c and sys_epoll.c (and all below)
 * in, and with sockets the rest of the network stack (stack.c, which
 * brings up the interfaces at boot) and the NIC driver, which the
 * kernel's boot code and virtio.c name only weakly.
 */
__attribute__((used)) static void *const pull_optional[] = {
	(void *)sys_socket, (void *)sys_epoll_create1,
	(void *)net_init, (void *)virtio_net_attach,
};

int
socket(int domain, int type, int protocol)
{
	return (int)syscall(SYS_socket, domain, type, protocol);
}

int
socketpair(int domain, int type, int protocol, int sv[2])
{
	return (int)syscall(SYS_socketpair, domain, type, protocol, sv);
}

int
epoll_create1(int flags)
{
	return (int)syscall(SYS_epoll_create1, flags);
}

int
epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return epoll_create1(0);
}

int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

int
epoll_pwait(int epfd, struct epoll_event *evs, int max, int ms, const sigset_t *mask)
{
	return (int)syscall(SYS_epoll_pwait, epfd, evs, max, ms, mask, _NSIG / 8);
}

int
epoll_wait(int epfd, struct epoll_event *evs, int max, int ms)
{
	return epoll_pwait(epfd, evs, max, ms, 0);
}

int
eventfd(unsigned int count, int flags)
{
	return (int)syscall(SYS_eventfd2, count, flags);
}

int
eventfd_read(int fd, eventfd_t *value)
{
	return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1;
}

int
eventfd_write(int fd, eventfd_t value)
{
	return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1;
}
