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
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
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

__attribute__((constructor)) static void
linux_init_shim(void)
{
	pid_t child;
	int ws, status;

	if (getpid() != 1)
		return;
	load_modules();
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
