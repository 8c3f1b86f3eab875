/*
 * The registry of dedicated devices (dedicate.h): a list of the devices
 * whose interrupts can move between cores, looked up by name, and the
 * dedicate=NAME:CPU boot options waiting for their device to register.
 * One sleeping lock serialises registrations and moves, since a driver's
 * move may block.  It does not route interrupts or touch devices: each
 * driver's move callback does that, and logs the move.
 */
#include "lib/dev/dedicate.h"

#include <errno.h>

#include "arch/x86_64/cpu.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/sched/kmutex.h"

#define DEDICATE_OPT_MAX	16

struct dedicate_opt {
	char name[DEDICATE_NAME_MAX];
	unsigned cpu;
	bool used;			/* a device of that name registered */
};

static struct kmutex lock;	/* the list, the options, every move */
static struct dedicated *devices;
static struct dedicate_opt opts[DEDICATE_OPT_MAX];
static unsigned nopts;

static bool
cpu_online(unsigned cpu)
{
	return cpu < CPU_MAX && (smp_online_mask() >> cpu & 1);
}

/* With the lock held. */
static struct dedicated *
find(const char *name)
{
	for (struct dedicated *d = devices; d; d = d->next)
		if (!kstrcmp(d->name, name))
			return d;
	return NULL;
}

/* With the lock held. */
static int
move_locked(struct dedicated *d, unsigned cpu)
{
	if (!cpu_online(cpu))
		return -EINVAL;
	if (cpu == d->cpu)
		return 0;
	int err = d->move(d->arg, cpu);
	if (!err)
		d->cpu = cpu;
	return err;
}

int
dedicate_register(struct dedicated *d)
{
	size_t len = kstrnlen(d->name, DEDICATE_NAME_MAX);

	if (!len || len == DEDICATE_NAME_MAX || !d->move)
		return -EINVAL;
	kmutex_lock(&lock);
	if (find(d->name)) {
		kmutex_unlock(&lock);
		pr_warn("dedicate: a device called %s is registered already\n",
			d->name);
		return -EEXIST;
	}
	struct dedicated **tail = &devices;
	while (*tail)
		tail = &(*tail)->next;
	d->next = NULL;
	*tail = d;
	for (unsigned i = 0; i < nopts; i++) {
		if (kstrcmp(opts[i].name, d->name))
			continue;
		opts[i].used = true;
		int err = move_locked(d, opts[i].cpu);
		if (err == -EINVAL)
			pr_warn("dedicate=%s:%u: cpu %u is not online; %s stays on cpu %u\n",
				d->name, opts[i].cpu, opts[i].cpu, d->name, d->cpu);
		else if (err)
			pr_warn("dedicate=%s:%u: not moved (error %d); %s stays on cpu %u\n",
				d->name, opts[i].cpu, err, d->name, d->cpu);
	}
	kmutex_unlock(&lock);
	return 0;
}

int
dedicate_move(const char *name, unsigned cpu)
{
	kmutex_lock(&lock);
	struct dedicated *d = find(name);
	int err = d ? move_locked(d, cpu) : -ENODEV;
	kmutex_unlock(&lock);
	return err;
}

int
dedicate_cpu(const char *name)
{
	kmutex_lock(&lock);
	struct dedicated *d = find(name);
	int cpu = d ? (int)d->cpu : -ENODEV;
	kmutex_unlock(&lock);
	return cpu;
}

/* NAME:CPU, split at the last colon (names such as "virtiofs:TAG" have one). */
int
dedicate_option(const char *v)
{
	const char *colon = NULL;
	unsigned cpu;

	if (!v)
		return -EINVAL;
	for (const char *p = v; *p; p++)
		if (*p == ':')
			colon = p;
	if (!colon || colon == v || colon - v >= DEDICATE_NAME_MAX ||
	    kparse_uint(colon + 1, CPU_MAX - 1, &cpu))
		return -EINVAL;
	size_t len = (size_t)(colon - v);
	struct dedicate_opt *o = NULL;
	for (unsigned i = 0; i < nopts && !o; i++)
		if (kstrlen(opts[i].name) == len && !kstrncmp(opts[i].name, v, len))
			o = &opts[i];
	if (!o) {
		if (nopts == DEDICATE_OPT_MAX)
			return -ENOSPC;
		o = &opts[nopts++];
		memcpy(o->name, v, len);
		o->name[len] = 0;
	}
	o->cpu = cpu;
	return 0;
}

void
dedicate_check(void)
{
	kmutex_lock(&lock);
	for (unsigned i = 0; i < nopts; i++)
		if (!opts[i].used)
			pr_warn("dedicate=%s:%u: no device called %s\n", opts[i].name,
				opts[i].cpu, opts[i].name);
	kmutex_unlock(&lock);
}
