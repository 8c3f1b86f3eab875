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
 */
#include <errno.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

__attribute__((constructor)) static void
linux_init_shim(void)
{
	pid_t child;
	int ws, status;

	if (getpid() != 1)
		return;
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
