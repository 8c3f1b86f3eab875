/*
 * The program's end with connections open.  On Linux, exit closes every
 * descriptor and the kernel goes on delivering what the sockets still
 * hold (the last data, the FIN) after the process is gone.  Here the
 * program's end stops the machine, so exit_group (lib/sys/sys_proc.c)
 * calls sock_exit_drain() first: it closes every descriptor the way
 * Linux's exit does (a socket with unread data sends RST, the others
 * their FIN after the queued data), then waits until no connection still
 * has data or a FIN the peer has not acknowledged (FIN_WAIT_1, CLOSING,
 * LAST_ACK), at most tcp.exit_wait= milliseconds (default 2000, 0: no
 * wait).  FIN_WAIT_2 and TIME_WAIT need nothing more from us.  Only
 * programs that make sockets link this file (lib/crt/optional.c); the
 * reference from exit_group is weak.
 */
#include <stdint.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/printk.h"
#include "lib/net/net.h"
#include "lib/net/socket.h"
#include "lib/net/tcp.h"
#include "lib/net/tcp_internal.h"
#include "lib/sched/sched.h"

/* Connections whose data or FIN the peer has yet to acknowledge. */
static unsigned
unacknowledged(void)
{
	unsigned c[TCPS_NSTATES];

	net_lock();
	tcp_count_states(c);
	net_unlock();
	return c[TCPS_FIN_WAIT_1] + c[TCPS_CLOSING] + c[TCPS_LAST_ACK];
}

void
sock_exit_drain(unsigned wait_ms)
{
	fd_close_all();
	if (!wait_ms || !unacknowledged())
		return;
	uint64_t hz = tsc_hz(), start = rdtsc(), end = start + hz / 1000 * wait_ms;
	unsigned left;
	while ((left = unacknowledged()) && rdtsc() < end)
		sched_sleep_until(rdtsc() + hz / 1000);
	uint64_t ms = (rdtsc() - start) / (hz / 1000);
	if (left)
		pr_warn("exit: %u TCP connection%s still unacknowledged after %lu ms (tcp.exit_wait=%u); stopping anyway\n",
			left, left == 1 ? "" : "s", (unsigned long)ms, wait_ms);
	else
		pr_debug("exit: TCP connections drained in %lu ms\n", (unsigned long)ms);
}
