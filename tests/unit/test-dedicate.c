/*
 * The dedicated-device registry (lib/dev/dedicate.c) on the host: the
 * dedicate=NAME:CPU option's syntax, registration (names, duplicates),
 * the boot option applied as a device registers, and moves (unknown
 * name, offline core, no-op, a driver that fails).  The online mask, the
 * futex calls under the sleeping lock and the kernel log are stubbed; the
 * log is kept to check the warnings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/dev/dedicate.h"
#include "lib/kernel/printk.h"
#include "tap.h"

static uint64_t online = 0x3;	/* cores 0 and 1 */
static char last_log[256];
static int nlogs;

uint64_t
smp_online_mask(void)
{
	return online;
}

/* One thread: the sleeping lock never waits. */
int
futex_wait(uint32_t *addr, uint32_t val, uint32_t bitset, uint64_t deadline)
{
	(void)addr, (void)val, (void)bitset, (void)deadline;
	return -EAGAIN;
}

int
futex_wake(uint32_t *addr, int n, uint32_t bitset)
{
	(void)addr, (void)n, (void)bitset;
	return 0;
}

void
klog(int level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	nlogs++;
}

struct fake {
	struct dedicated d;
	int moves;
	unsigned last_cpu;
	int fail;		/* error the next move returns */
};

static int
fake_move(void *arg, unsigned cpu)
{
	struct fake *f = arg;

	if (f->fail)
		return f->fail;
	f->moves++;
	f->last_cpu = cpu;
	return 0;
}

static void
fake_init(struct fake *f, const char *name, unsigned cpu)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->d.name, sizeof(f->d.name), "%s", name);
	f->d.move = fake_move;
	f->d.arg = f;
	f->d.cpu = cpu;
}

static void
options(void)
{
	char long_name[DEDICATE_NAME_MAX + 8];

	is_int(dedicate_option("vda:1"), 0, "vda:1");
	is_int(dedicate_option("vdb:7"), 0, "vdb:7 (checked when vdb appears)");
	is_int(dedicate_option("virtiofs:site:1"), 0, "a name with a colon: split at the last");
	is_int(dedicate_option("vdc:0"), 0, "vdc:0");
	is_int(dedicate_option("vdc:1"), 0, "vdc again: the last one wins");
	is_int(dedicate_option(NULL), -EINVAL, "no value");
	is_int(dedicate_option("vda"), -EINVAL, "no colon");
	is_int(dedicate_option(":1"), -EINVAL, "no name");
	is_int(dedicate_option("vda:"), -EINVAL, "no core");
	is_int(dedicate_option("vda:x"), -EINVAL, "a core that is not a number");
	is_int(dedicate_option("vda:-1"), -EINVAL, "a negative core");
	is_int(dedicate_option("vda:64"), -EINVAL, "core 64 (at most 64 cores)");
	is_int(dedicate_option("vda:99999999999"), -EINVAL, "a huge core");
	memset(long_name, 'x', sizeof(long_name));
	snprintf(long_name + DEDICATE_NAME_MAX, 8, ":1");
	is_int(dedicate_option(long_name), -EINVAL, "a name too long for any device");
}

int
main(void)
{
	struct fake a, b, c, fs, x, dup, empty;

	options();

	/* vda:1 applies as vda registers. */
	fake_init(&a, "vda", 0);
	is_int(dedicate_register(&a.d), 0, "vda registers");
	ok(a.moves == 1 && a.last_cpu == 1, "dedicate=vda:1 moved it to core 1");
	is_int(dedicate_cpu("vda"), 1, "vda is on core 1");

	/* vdb:7 names an offline core: a warning, no move. */
	nlogs = 0;
	fake_init(&b, "vdb", 0);
	is_int(dedicate_register(&b.d), 0, "vdb registers");
	ok(!b.moves && nlogs == 1 && strstr(last_log, "cpu 7 is not online"),
	   "dedicate=vdb:7 is reported and ignored: %s", last_log);
	is_int(dedicate_cpu("vdb"), 0, "vdb stays on core 0");

	/* The last of two options for vdc wins. */
	fake_init(&c, "vdc", 0);
	is_int(dedicate_register(&c.d), 0, "vdc registers");
	ok(c.moves == 1 && c.last_cpu == 1, "the last dedicate=vdc: wins");

	fake_init(&fs, "virtiofs:site", 0);
	is_int(dedicate_register(&fs.d), 0, "virtiofs:site registers");
	ok(fs.moves == 1 && fs.last_cpu == 1, "and is moved by virtiofs:site:1");

	/* Registration errors. */
	fake_init(&dup, "vda", 0);
	is_int(dedicate_register(&dup.d), -EEXIST, "a second vda: EEXIST");
	is_int(dedicate_cpu("vda"), 1, "the first vda is untouched");
	fake_init(&empty, "", 0);
	is_int(dedicate_register(&empty.d), -EINVAL, "an empty name: EINVAL");
	fake_init(&empty, "nomove", 0);
	empty.d.move = NULL;
	is_int(dedicate_register(&empty.d), -EINVAL, "no move callback: EINVAL");
	fake_init(&empty, "", 0);
	memset(empty.d.name, 'y', sizeof(empty.d.name));
	is_int(dedicate_register(&empty.d), -EINVAL, "an unterminated name: EINVAL");

	/* Moves at run time. */
	fake_init(&x, "hvc0", 0);
	is_int(dedicate_register(&x.d), 0, "hvc0 registers (no option names it)");
	ok(!x.moves, "and is not moved");
	is_int(dedicate_move("hvc0", 1), 0, "hvc0 to core 1");
	ok(x.moves == 1 && x.last_cpu == 1 && dedicate_cpu("hvc0") == 1,
	   "the driver moved it and the registry knows");
	is_int(dedicate_move("hvc0", 1), 0, "to core 1 again");
	is_int(x.moves, 1, "changes nothing and does not call the driver");
	is_int(dedicate_move("eth0", 1), -ENODEV, "an unknown device: ENODEV");
	is_int(dedicate_cpu("eth0"), -ENODEV, "and it has no core");
	is_int(dedicate_move("hvc0", 2), -EINVAL, "an offline core: EINVAL");
	is_int(dedicate_move("hvc0", 64), -EINVAL, "core 64: EINVAL");
	is_int(dedicate_move("hvc0", (unsigned)-1), -EINVAL, "core -1: EINVAL");
	is_int(dedicate_move("eth0", 7), -ENODEV, "unknown device and core: ENODEV first");
	x.fail = -EIO;
	is_int(dedicate_move("hvc0", 0), -EIO, "the driver's error comes back");
	is_int(dedicate_cpu("hvc0"), 1, "and the device stays where it was");
	x.fail = 0;
	online = 0x7;
	is_int(dedicate_move("hvc0", 2), 0, "a core that came online");
	is_int(dedicate_cpu("hvc0"), 2, "hvc0 is on core 2");

	/* Every option named a device except none: no warning; then one. */
	nlogs = 0;
	dedicate_check();
	is_int(nlogs, 0, "every dedicate= option found its device");
	is_int(dedicate_option("eth0:1"), 0, "eth0:1 (no such device)");
	dedicate_check();
	ok(nlogs == 1 && strstr(last_log, "no device called eth0"),
	   "an option for a device never found is reported: %s", last_log);
	return done_testing();
}
