/*
 * Dedicated devices: which core serves a device's queues.  A device's
 * completion interrupts, and the driver work they start, go to one core,
 * the one its queues are dedicated to; toro_dedicate() (include/toro/dev.h)
 * and the kernel option dedicate=NAME:CPU move them.  Any driver or
 * device class whose interrupt can move registers a struct dedicated under
 * the name applications know the device by ("vda", "hvc0", later "eth0"),
 * with the core it starts on and a move callback.  The registry only
 * names devices, checks the core, serialises moves and applies the boot
 * option; how a device moves is the driver's business.
 *
 * Called with interrupts off, like all kernel code.
 */
#ifndef TORO_DEV_DEDICATE_H
#define TORO_DEV_DEDICATE_H

#include <stdbool.h>

#define DEDICATE_NAME_MAX	48	/* with the NUL: "virtiofs:" + a 36-byte tag */

struct dedicated {
	/* Set by the driver before dedicate_register(). */
	char name[DEDICATE_NAME_MAX];
	/*
	 * Moves the device's interrupts to cpu (online, not the current
	 * one) without losing a completion: the driver re-checks its queues
	 * after the move.  May block.  0 or a negative errno (then the
	 * device is still served by the old core).
	 */
	int (*move)(void *arg, unsigned cpu);
	void *arg;
	unsigned cpu;			/* the core now; the registry's after registering */
	/* The registry's. */
	struct dedicated *next;
};

/*
 * Adds d (which must stay allocated) and, if a dedicate= option names it,
 * moves it there at once.  -EEXIST if the name is taken, -EINVAL if it is
 * empty or too long.
 */
int dedicate_register(struct dedicated *d);
/* Moves the device called name to cpu: 0, -ENODEV, -EINVAL or move's error. */
int dedicate_move(const char *name, unsigned cpu);
/* The core the device called name is dedicated to, or -ENODEV. */
int dedicate_cpu(const char *name);
/* dedicate=NAME:CPU (kernel option, repeatable; the last one for a name wins). */
int dedicate_option(const char *v);
/* After probing: warns about dedicate= options that named no device. */
void dedicate_check(void);

#endif
