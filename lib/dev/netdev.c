/*
 * The network-device registry (netdev.h): names NICs eth0, eth1, ... in
 * registration order and lets the stack find them.  Each is also
 * registered as a dedicated device under its name (dedicate=eth0:N,
 * toro_dedicate()): a move re-routes its interrupt (ops->set_cpu) and
 * notifies the stack, whose thread then follows it to the new core.  No
 * frames pass through here: drivers and the stack talk through the
 * struct netdev's operations and hooks directly.
 */
#include "lib/dev/netdev.h"

#include <errno.h>

#include "lib/dev/dedicate.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"

static struct netdev *devices[NETDEV_MAX];
static unsigned ndevices;	/* atomic: entries below it are set */
static struct spinlock lock;
static struct dedicated dedicated[NETDEV_MAX];

/* dedicate's move: the interrupt first, then the stack's thread. */
static int
move(void *arg, unsigned cpu)
{
	struct netdev *nd = arg;

	if (!nd->ops->set_cpu)
		return -EOPNOTSUPP;
	int err = nd->ops->set_cpu(nd, cpu);
	void (*notify)(struct netdev *) = __atomic_load_n(&nd->notify, __ATOMIC_ACQUIRE);
	if (!err && notify)
		notify(nd);	/* its thread sees nd->cpu changed and moves */
	return err;
}

int
netdev_register(struct netdev *nd)
{
	spin_lock(&lock);
	unsigned i = ndevices;
	if (i == NETDEV_MAX) {
		spin_unlock(&lock);
		pr_warn("netdev: more than %d NICs; %s ignored\n", NETDEV_MAX,
			nd->driver ? nd->driver : "one");
		return -ENOSPC;
	}
	nd->name[0] = 'e';
	nd->name[1] = 't';
	nd->name[2] = 'h';
	nd->name[3] = (char)('0' + i);
	nd->name[4] = 0;
	if (!nd->mtu)
		nd->mtu = 1500;
	devices[i] = nd;
	__atomic_store_n(&ndevices, i + 1, __ATOMIC_RELEASE);
	spin_unlock(&lock);
	pr_info("%s: %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, %s\n", nd->name,
		nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4],
		nd->mac[5], nd->mtu, nd->driver ? nd->driver : "?");
	struct dedicated *d = &dedicated[i];
	kstrlcpy(d->name, nd->name, sizeof(d->name));
	d->move = move;
	d->arg = nd;
	d->cpu = nd->cpu;
	dedicate_register(d);	/* applies a dedicate=ethN:CPU at once */
	return 0;
}

unsigned
netdev_count(void)
{
	return __atomic_load_n(&ndevices, __ATOMIC_ACQUIRE);
}

struct netdev *
netdev_get(unsigned i)
{
	return i < netdev_count() ? devices[i] : NULL;
}

struct netdev *
netdev_find(const char *name)
{
	for (unsigned i = 0; i < netdev_count(); i++)
		if (!kstrcmp(devices[i]->name, name))
			return devices[i];
	return NULL;
}
