/*
 * The toro_dedicate() API (include/toro/dev.h): application calls onto
 * the dedicated-device registry (dedicate.h).  The name is copied out of
 * the application's memory, checked page by page, and the registry is
 * called with interrupts off; only argument checking and errno
 * conversion live here.
 */
#include <errno.h>

#include <toro/dev.h>

#include "arch/x86_64/io.h"
#include "lib/dev/dedicate.h"
#include "lib/mm/vm.h"

/*
 * The application's string in buf: 0, -ENODEV when it is NULL or longer
 * than any device name, -EINVAL when it is not memory the program may use.
 */
static int
name_in(const char *u, char buf[DEDICATE_NAME_MAX])
{
	if (!u)
		return -ENODEV;
	for (size_t i = 0; i < DEDICATE_NAME_MAX; i++) {
		/* Check each new page before reading from it. */
		if ((i == 0 || ((uintptr_t)(u + i) & 4095) == 0) &&
		    !vm_user_range_ok(u + i, 1))
			return -EINVAL;
		if (!(buf[i] = u[i]))
			return 0;
	}
	return -ENODEV;
}

int
toro_dedicate(const char *device, int cpu)
{
	char name[DEDICATE_NAME_MAX];
	int err = name_in(device, name);

	if (err)
		return -err;
	unsigned long flags = irq_save();
	/* A negative cpu becomes a huge one, which is not online: EINVAL. */
	err = dedicate_move(name, (unsigned)cpu);
	irq_restore(flags);
	return -err;
}

int
toro_dedicated_cpu(const char *device)
{
	char name[DEDICATE_NAME_MAX];
	int err = name_in(device, name);

	if (err)
		return err;
	unsigned long flags = irq_save();
	int cpu = dedicate_cpu(name);
	irq_restore(flags);
	return cpu;
}
