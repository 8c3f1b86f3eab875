/*
 * The stack's threads and its start at boot.
 *
 * Each NIC gets a kernel thread on the core its queues are dedicated to
 * (nd->cpu).  The thread sleeps on a futex word until the driver's
 * interrupt handler calls nd->notify() (a futex wake, which interrupt
 * context may do: the bucket locks are only ever taken with interrupts
 * off) or until the next timer is due; then it polls the device, at most
 * POLL_BUDGET frames a batch with net_lock held (net_lock_sleep: it may
 * sleep while a socket call on another core has it), runs the due timers
 * and drops the lock between batches so that socket calls on other
 * cores get their turn; when a batch comes back short it sleeps again
 * unless frames slipped in, and its core checks the device's ring for it
 * at every scheduling decision and while it polls idle, with the
 * receive interrupt off until the core halts (sched_idle_watch); a
 * driver without irq_poll gets its interrupt re-armed instead (NAPI).
 *
 * The timer wheel is run by one thread: the first NIC's, or, with no
 * NIC at all, one started on first need (a loopback TCP connection's
 * first timer), so a program that never touches the network has no
 * thread and waits for nothing.  Looped-back packets are delivered by
 * whoever drops net_lock (core.c), the rest by the timer thread.
 *
 * net_init() attaches every netdev, applies ip= (else starts DHCP on
 * each NIC) and waits up to DHCP_WAIT_MS for the leases, then writes
 * /etc/resolv.conf from the DNS servers it learned unless the initrd
 * brought one.  Not the place for any protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "lib/dev/netdev.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/net/inet.h"
#include "lib/sched/futex.h"
#include "lib/sched/sched.h"

#define POLL_BUDGET	64
#define DHCP_WAIT_MS	5000

struct net_worker {
	uint32_t kick;			/* futex word: bumped to wake it */
	struct netdev *nd;		/* NULL: timers and loopback only */
	uint64_t sleep_until;		/* ms; under net_lock: when it will look again */
	struct idle_watch watch;	/* its core checks the NIC while it sleeps */
};

static struct net_worker workers[NETDEV_MAX + 1];
static struct net_worker *timer_worker;	/* under net_lock */
static uint32_t config_seq;		/* futex word: bumped when DHCP binds */

static void
worker_wake(struct net_worker *w)
{
	__atomic_add_fetch(&w->kick, 1, __ATOMIC_SEQ_CST);
	futex_wake(&w->kick, 1, ~0U);
}

/* nd->notify: from the driver's interrupt handler, on nd->cpu. */
static void
net_notify(struct netdev *nd)
{
	struct netif *nif = netif_of(nd);

	if (nif && nif->worker)
		worker_wake(nif->worker);
}

/*
 * The core's side of the watch (sched_idle_watch), on the core where
 * the thread sleeps; if the NIC has moved since, the interrupt is the
 * new core's to switch, and a frame seen here only wakes the thread,
 * which then follows the NIC.
 */
static bool
watch_here(struct netdev *nd)
{
	return __atomic_load_n(&nd->cpu, __ATOMIC_RELAXED) == this_cpu()->index;
}

static void
watch_quiet(void *arg)
{
	struct net_worker *w = arg;

	if (watch_here(w->nd))
		w->nd->ops->irq_poll(w->nd, &w->watch.idx, &w->watch.seen);
}

static bool
watch_arm(void *arg)
{
	struct net_worker *w = arg;

	return watch_here(w->nd) && w->nd->ops->irq_enable(w->nd);
}

static void
watch_wake(void *arg)
{
	worker_wake(arg);
}

/* The NIC was dedicated to another core: its thread moves there too. */
static void
follow(unsigned cpu)
{
	struct thread *t = sched_current();

	if (cpu >= CPU_MAX || !(smp_online_mask() >> cpu & 1))
		return;
	t->affinity = 1ULL << cpu;
	__atomic_store_n(&t->want_cpu, (int)cpu, __ATOMIC_RELAXED);
	sched_yield_cpu();	/* switches away and resumes over there */
}

static void
worker_main(void *arg)
{
	struct net_worker *w = arg;
	struct netdev *nd = w->nd;

	for (;;) {
		uint32_t seen = __atomic_load_n(&w->kick, __ATOMIC_SEQ_CST);
		int n = 0;

		sched_idle_watch(NULL);
		if (nd && nd->cpu != this_cpu()->index) {
			follow(nd->cpu);
			pr_debug("%s: the stack's thread is on cpu %u\n", nd->name,
				 this_cpu()->index);
		}

		net_lock_sleep();
		w->sleep_until = 0;
		if (nd)
			n = nd->ops->poll(nd, POLL_BUDGET);
		if (w == timer_worker)
			net_timer_run(net_now_ms());
		net_unlock();
		if (n >= POLL_BUDGET) {
			sched_yield_cpu();	/* busy: let this core's threads run too */
			continue;
		}
		/*
		 * Its core checks the NIC for it, with the interrupt off until
		 * the core halts (sched_idle_watch); else the interrupt.
		 */
		bool watched = nd && nd->ops->irq_poll;
		if (watched) {
			nd->ops->irq_poll(nd, &w->watch.idx, &w->watch.seen);
			if (idle_watch_pending(&w->watch))
				continue;	/* frames arrived meanwhile */
		} else if (nd && nd->ops->irq_enable(nd)) {
			continue;	/* frames arrived while re-arming */
		}
		net_lock_sleep();
		uint64_t next = UINT64_MAX;
		if (w == timer_worker)
			next = loop_pending() ? 0 : net_timer_next();
		w->sleep_until = next;
		net_unlock();
		if (next <= net_now_ms())
			continue;
		if (watched)
			sched_idle_watch(&w->watch);
		/* A notify or an earlier timer since `seen` makes this return at once. */
		futex_wait(&w->kick, seen, ~0U, next == UINT64_MAX ? 0 : net_ms_to_tsc(next));
	}
}

static int
start_worker(struct net_worker *w, unsigned cpu, const char *name)
{
	w->watch = (struct idle_watch){ .quiet = watch_quiet, .arm = watch_arm,
				      .wake = watch_wake, .arg = w };
	int err = kthread_start(worker_main, w, cpu, name);

	if (err && cpu != 0)
		err = kthread_start(worker_main, w, 0, name);
	if (err)
		pr_err("net: cannot start the %s thread (error %d)\n", name, err);
	return err;
}

void
net_timer_kick(uint64_t when_ms)
{
	struct net_worker *w = timer_worker;

	if (!w) {
		/* No NIC: the first timer (or loopback overflow) starts a thread. */
		w = &workers[NETDEV_MAX];
		timer_worker = w;
		if (start_worker(w, this_cpu()->index, "net"))
			timer_worker = NULL;
		return;
	}
	if (when_ms < w->sleep_until)
		worker_wake(w);
}

void
net_config_changed(void)
{
	__atomic_add_fetch(&config_seq, 1, __ATOMIC_SEQ_CST);
	futex_wake(&config_seq, 1 << 30, ~0U);
}

/* ------------------------------------------------------------- boot */

static void
log_static(const struct netif *n)
{
	const uint8_t *a = (const uint8_t *)&n->addr, *g = (const uint8_t *)&n->gw;

	pr_info("%s: %u.%u.%u.%u/%u, gateway %u.%u.%u.%u (ip=)\n", n->dev->name,
		a[0], a[1], a[2], a[3], (unsigned)__builtin_popcount(n->mask),
		g[0], g[1], g[2], g[3]);
}

/* Applies ip= (or the default, DHCP everywhere) to interface i. */
static void
configure(unsigned i)
{
	const struct ip_config *c = &net_ip_config;
	struct netif *nif = &netifs[i];
	bool named = c->device[0] ? !kstrcmp(c->device, nif->dev->name) : i == 0;

	switch (c->mode) {
	case IPCFG_OFF:
		return;
	case IPCFG_STATIC:
		if (!named)
			return;	/* as Linux: ip= configures one device */
		netif_set_addr(nif, c->client, c->mask, c->gw, c->dns);
		log_static(nif);
		return;
	case IPCFG_DHCP:
		if (c->device[0] && !named)
			return;
		break;
	case IPCFG_DEFAULT:
		break;
	}
	if (dhcp_start(nif))
		pr_err("%s: no memory for DHCP\n", nif->dev->name);
}

static bool
dhcp_all_done(void)
{
	bool done = true;

	net_lock();
	for (unsigned i = 0; i < netif_count; i++)
		done = done && dhcp_done(&netifs[i]);
	net_unlock();
	return done;
}

/* Waits (bounded) until every interface doing DHCP has a lease. */
static void
wait_for_dhcp(void)
{
	uint64_t end = net_now_ms() + DHCP_WAIT_MS;

	for (;;) {
		uint32_t seq = __atomic_load_n(&config_seq, __ATOMIC_SEQ_CST);
		if (dhcp_all_done() || net_now_ms() >= end)
			break;
		futex_wait(&config_seq, seq, ~0U, net_ms_to_tsc(end));
	}
	for (unsigned i = 0; i < netif_count; i++)
		if (!dhcp_done(&netifs[i]))
			pr_warn("%s: no DHCP lease after %u s; still asking\n",
				netifs[i].dev->name, DHCP_WAIT_MS / 1000);
}

static int
fmt_addr(char *p, size_t size, uint32_t a)
{
	const uint8_t *b = (const uint8_t *)&a;

	return ksnprintf(p, size, "nameserver %u.%u.%u.%u\n", b[0], b[1], b[2], b[3]);
}

/* /etc/resolv.conf for musl's resolver, unless the initrd has one. */
static void
write_resolv_conf(void)
{
	char text[160];
	size_t len = 0;
	unsigned n = 0;

	net_lock();
	for (unsigned i = 0; i < netif_count; i++)
		for (unsigned k = 0; k < NETIF_DNS_MAX && n < 3; k++)
			if (netifs[i].addr && netifs[i].dns[k]) {
				len += (size_t)fmt_addr(text + len, sizeof(text) - len,
							netifs[i].dns[k]);
				n++;
			}
	net_unlock();
	if (!n)
		return;
	struct vnode *vn;
	vfs_mkdir(NULL, "/etc", 0755);
	if (vfs_open_vnode(NULL, "/etc/resolv.conf", O_CREAT | O_EXCL | O_WRONLY,
			   0644, &vn))
		return;	/* there is one already, or no room */
	struct file *f = file_new(vn, O_WRONLY);
	if (!f) {
		vn_put(vn);
		return;
	}
	off_t at = 0;
	file_write(f, text, len, &at);
	file_put(f);
}

void
net_init(void)
{
	unsigned n = netdev_count();

	if (!n) {
		if (net_ip_config.mode == IPCFG_STATIC || net_ip_config.mode == IPCFG_DHCP)
			pr_warn("ip=: there is no network device\n");
		return;	/* loopback needs nothing set up */
	}
	net_lock();
	for (unsigned i = 0; i < n && i < NETDEV_MAX; i++) {
		struct netdev *nd = netdev_get(i);
		struct netif *nif = netif_add(nd);
		workers[i].nd = nd;
		nif->worker = &workers[i];
	}
	timer_worker = &workers[0];
	net_unlock();
	for (unsigned i = 0; i < netif_count; i++) {
		struct netdev *nd = netifs[i].dev;
		__atomic_store_n(&nd->notify, net_notify, __ATOMIC_RELEASE);
		__atomic_store_n(&nd->input, eth_input, __ATOMIC_RELEASE);
		/* Its first round polls what waited and arms the interrupt. */
		start_worker(&workers[i], nd->cpu, nd->name);
	}
	bool dhcp = false;
	net_lock();
	for (unsigned i = 0; i < netif_count; i++) {
		configure(i);
		dhcp = dhcp || netifs[i].dhcpc;
	}
	net_unlock();
	if (dhcp)
		wait_for_dhcp();
	write_resolv_conf();
}
