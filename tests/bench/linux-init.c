/*
 * The PID-1 shim of the Linux-guest baseline.  Every benchmark program is
 * built twice from the same source: for Toro, and for the Linux guest with
 * `musl-gcc -static` plus this file, as the initramfs's /init.  It gives
 * the Linux guest what Toro does by itself: when the program exits (by
 * exit(), a return from main() or a signal), the virtual machine stops and
 * QEMU's exit status carries the program's, through isa-debug-exit at port
 * 0xf4, the port Toro's arch_poweroff() writes (QEMU exits with
 * (status << 1) | 1).  A program killed by signal N reports 128 + N, as
 * Toro reports a CPU exception.
 *
 * How: a constructor runs before main().  As PID 1 it forks; the child
 * returns and runs the program unchanged (not as PID 1, whose signal
 * handling is special), while PID 1 waits for it, waits until the console
 * has sent everything it wrote (tcdrain), then writes the status to the
 * port.  Without the port (or if ioperm is refused) it powers off, and the
 * status is lost.  Run as any other PID (on the host, say) it does
 * nothing.  It is not part of Toro.
 *
 * Kernel modules: a benchmark that needs devices (storage: virtio-blk,
 * FAT, virtio-fs) finds Debian's drivers built as modules, and there is
 * no udev or modprobe here.  When the initramfs holds /modules/order
 * (lib.sh's bench_cpio writes it, with the .ko files beside it), PID 1
 * first loads each module it names, in that order (dependencies first),
 * with finit_module(2), then mounts devtmpfs on /dev so that the devices
 * the drivers found have nodes (/dev/vda...).  A module already there
 * (EEXIST: built in, say) is fine; any other failure is reported on the
 * console, "linux-init: ...", and the program runs anyway, so that its own
 * error says what it missed.  Without /modules/order (every other
 * benchmark) nothing of this happens.
 *
 * The address.  Toro configures its NIC from the kernel command line's
 * ip= option (Linux's syntax, CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:
 * DEVICE:AUTOCONF); Debian's kernel has no ip= (CONFIG_IP_PNP is off) and
 * hands it to /init as the environment variable "ip".  When it is there,
 * PID 1 applies the client address and netmask to the device (eth0 unless
 * ip= names one) with ioctl() and brings it up, after loading the modules
 * and before the program starts, so that a program that knows nothing of
 * this (the web server, busybox httpd) finds the same address as on
 * Toro.  A failure is reported on the console and the program runs
 * anyway.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4
#define MODULE_DIR "/modules/"

/* A line on the console without stdio: PID 1's stdout buffer must stay
 * empty, or the fork would print it twice. */
static void
say(const char *a, const char *b, const char *c, const char *d)
{
	const char *parts[] = { "linux-init: ", a, b, c, d, "\n" };

	for (unsigned i = 0; i < 6; i++)
		if (parts[i] && write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
			return;
}

/* Loads the modules /modules/order names, then mounts devtmpfs on /dev. */
static void
load_modules(void)
{
	static char list[4096];
	char path[256];
	ssize_t n, len = 0;
	int fd = open(MODULE_DIR "order", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;		/* no modules: a benchmark that needs none */
	while (len < (ssize_t)sizeof(list) - 1 &&
	       (n = read(fd, list + len, sizeof(list) - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	list[len] = 0;
	for (char *name = strtok(list, "\n"); name; name = strtok(NULL, "\n")) {
		if (strlen(name) >= sizeof(path) - sizeof(MODULE_DIR)) {
			say("module name too long: ", name, NULL, NULL);
			continue;
		}
		strcpy(path, MODULE_DIR);
		strcat(path, name);
		int ko = open(path, O_RDONLY | O_CLOEXEC);
		if (ko < 0) {
			say("cannot open ", path, ": ", strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, ko, "", 0) && errno != EEXIST)
			say("cannot load ", path, ": finit_module: ", strerror(errno));
		close(ko);
	}
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) && errno != EBUSY)
		say("cannot mount devtmpfs on /dev: ", strerror(errno), NULL, NULL);
}

/* Sets one address of interface dev with ioctl request req. */
static int
set_if_addr(int s, const char *dev, unsigned long req, const char *addr)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		say("ip=: bad address ", addr, NULL, NULL);
		return -1;
	}
	if (ioctl(s, req, &ifr) < 0) {
		say("ip=: ", dev, ": ", strerror(errno));
		return -1;
	}
	return 0;
}

/* Applies ip= from the environment (see the top), if there is one. */
static void
configure_ip(void)
{
	const char *ip = getenv("ip");
	char copy[256], *field[7] = { 0 }, *p;
	const char *dev;
	struct ifreq ifr;
	int n = 0, s;

	if (!ip || !*ip || strlen(ip) >= sizeof(copy))
		return;
	strcpy(copy, ip);
	for (p = copy; p && n < 7; n++)
		field[n] = strsep(&p, ":");	/* empty fields are fields */
	if (!*field[0])
		return;
	dev = field[5] && *field[5] ? field[5] : "eth0";
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		say("ip=: socket: ", strerror(errno), NULL, NULL);
		return;
	}
	if (set_if_addr(s, dev, SIOCSIFADDR, field[0]) == 0 &&
	    (!field[3] || !*field[3] || set_if_addr(s, dev, SIOCSIFNETMASK, field[3]) == 0)) {
		memset(&ifr, 0, sizeof(ifr));
		strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			say("ip=: SIOCGIFFLAGS: ", strerror(errno), NULL, NULL);
		else {
			ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
			if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
				say("ip=: SIOCSIFFLAGS: ", strerror(errno), NULL, NULL);
		}
	}
	close(s);
}

__attribute__((constructor)) static void
linux_init_shim(void)
{
	pid_t child;
	int ws, status;

	if (getpid() != 1)
		return;
	load_modules();
	configure_ip();
	child = fork();
	if (child == 0)
		return;	/* the program: on to main() */
	if (child < 0)
		status = 125;	/* as Toro's kernel panic */
	else {
		while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
			;
		status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
	tcdrain(STDOUT_FILENO);
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outl((unsigned)status & 0xff, DEBUG_EXIT_PORT);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
