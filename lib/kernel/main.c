/*
 * Kernel initialisation, in order: console, CPU tables, boot data, command
 * line, physical memory, page tables, the boot CPU's scheduler, the other
 * CPUs, devices, then the application.
 * Each step is a call into the subsystem that owns it; this file only
 * decides the order and the table of kernel options.
 */
#include <errno.h>
#include <stdint.h>

#include <toro/status.h>
#include <toro/version.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "drivers/devices.h"
#include "drivers/uart16550/uart16550.h"
#include "drivers/virtio/virtio.h"
#include "lib/crt/start.h"
#include "lib/dev/dedicate.h"
#include "lib/fs/vfs.h"
#include "lib/kernel/bootinfo.h"
#include "lib/kernel/cmdline.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/panic.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/prof.h"
#include "lib/mm/heap.h"
#include "lib/mm/vm.h"
#include "lib/net/netif.h"
#include "lib/sched/sched.h"
#include "lib/sys/syscall.h"

/*
 * The network stack and virtio-net are in an image only if the program
 * makes a socket (lib/crt/optional.c pulls them in with the socket
 * layer): here they are weak references, NULL without it.  Their
 * options are then recognised and reported as ignored, and a NIC is
 * left alone (virtio.c).
 */
#pragma weak net_init
#pragma weak net_ip_option
#pragma weak virtio_net_set_cpu
#pragma weak virtio_net_set_tso

void toro_kernel_main(uint32_t protocol, uint32_t data);

static struct boot_info boot_info;
static struct cmdline cmdline;
static char cmdline_words[BOOT_CMDLINE_MAX];	/* split in place */

const char *
toro_version(void)
{
	return PACKAGE_VERSION;
}

static int
opt_quiet(const char *v)
{
	if (v)
		return -EINVAL;
	log_level = LOG_ERR;
	return 0;
}

static int
opt_debug(const char *v)
{
	if (v)
		return -EINVAL;
	log_level = LOG_DEBUG;
	return 0;
}

static int
opt_loglevel(const char *v)
{
	if (!v || v[0] < '0' || v[0] > '3' || v[1])
		return -EINVAL;
	log_level = v[0] - '0';
	return 0;
}

static unsigned max_cpus;	/* 0: every CPU the firmware lists */

static int
opt_nosmp(const char *v)
{
	if (v)
		return -EINVAL;
	max_cpus = 1;
	return 0;
}

static int
opt_maxcpus(const char *v)
{
	unsigned n;

	if (kparse_uint(v, CPU_MAX * 1000, &n))
		return -EINVAL;
	max_cpus = n ? n : 1;
	return 0;
}

static const struct kernel_option options[] = {
	{ "quiet", opt_quiet, false, "log errors only" },
	{ "debug", opt_debug, false, "log everything the kernel does" },
	{ "loglevel", opt_loglevel, false, "0 errors .. 3 debug (default 1)" },
	{ "nosmp", opt_nosmp, false, "start the boot CPU only" },
	{ "maxcpus", opt_maxcpus, false, "start at most N CPUs" },
	{ "timeslice", sched_set_timeslice, false,
	  "preempt a thread after N ms if others wait (default 0: never)" },
	{ "idle_poll", sched_set_idle_poll, false,
	  "an idle core polls N us for work before halting (default 50)" },
	{ "prof", prof_set_hz, false,
	  "sample every core's stack N times a second for toro-prof (default 0)" },
	{ "stack", crt_set_stack_size, false, "main stack size (default 256K)" },
	{ "argv0", crt_set_argv0, false, "the application's argv[0]" },
	{ "virtio_mmio.device", virtio_mmio_option, true,
	  "a virtio-mmio device: SIZE@ADDR:IRQ" },
	{ "virtio_pci.msix", virtio_pci_set_msix, false,
	  "0: virtio-pci interrupts through INTx, not MSI-X" },
	{ "virtio_pci.legacy", virtio_pci_set_legacy, false,
	  "drive transitional virtio-pci devices through the legacy interface" },
	{ "virtio_blk.cpu", virtio_blk_set_cpu, false,
	  "the core that takes virtio-blk interrupts (default 0)" },
	{ "virtio_blk.timeout", virtio_blk_set_timeout, false,
	  "seconds before an unanswered disk request fails (default 30)" },
	{ "virtio_net.cpu", virtio_net_set_cpu, false,
	  "the core that serves virtio-net's queues (default 0)" },
	{ "virtio_net.tso", virtio_net_set_tso, false,
	  "0: no TCP segmentation offload even where the device offers it (default 1)" },
	{ "dedicate", dedicate_option, false,
	  "NAME:CPU: device NAME's interrupts go to core CPU (repeatable)" },
	{ "console", virtio_console_option, false,
	  "hvc0: the virtio console is the console once found (default ttyS0)" },
	{ "ip", net_ip_option, false,
	  "CLIENT:SERVER:GW:MASK:HOST:DEV:AUTOCONF:DNS0:DNS1, dhcp or off (default dhcp)" },
	{ "tcp.exit_wait", tcp_set_exit_wait, false,
	  "ms the program's end waits for peers to acknowledge TCP's last data and FIN (default 2000)" },
	{ "mount", fs_opt_mount, false,
	  "mount SOURCE:DIR[:TYPE] at boot (repeatable; TYPE default ramfs)" },
};

static void
warn_word(const char *what, const char *word)
{
	pr_warn("%s: '%s'\n", what, word);
}

static void
log_boot_info(const struct boot_info *bi)
{
	pr_debug("Toro %s booted by %s%s%s\n", PACKAGE_VERSION,
		 bootinfo_protocol_name(bi->protocol), bi->loader[0] ? " from " : "",
		 bi->loader);
	for (unsigned i = 0; i < bi->nmem; i++)
		pr_debug("  mem %016llx-%016llx type %u\n",
			 (unsigned long long)bi->mem[i].base,
			 (unsigned long long)(bi->mem[i].base + bi->mem[i].len - 1),
			 bi->mem[i].type);
	for (unsigned i = 0; i < bi->nmod; i++)
		pr_debug("  module %s at 0x%llx, %llu bytes\n", bi->mod[i].name,
			 (unsigned long long)bi->mod[i].base,
			 (unsigned long long)bi->mod[i].len);
	pr_debug("  command line: %s\n", bi->cmdline);
	if (bi->dropped_mem || bi->dropped_mod)
		pr_warn("boot data: %u memory ranges and %u modules did not fit\n",
			bi->dropped_mem, bi->dropped_mod);
	if (bi->cmdline_truncated)
		pr_warn("command line longer than %d bytes was truncated\n",
			BOOT_CMDLINE_MAX - 1);
}

void
toro_kernel_main(uint32_t protocol, uint32_t data)
{
	if (uart_init(COM1_PORT))
		console_set_sink(uart_console_write);
	cpu_init();

	/* Physical memory below 4 GiB is identity mapped by the entry code. */
	const struct phys_window low4g = { 0, 4ULL << 30, (const uint8_t *)0 };
	const char *why;
	if (bootinfo_parse(&boot_info, (int)protocol, data, &low4g, &why)) {
		kprintf("toro: cannot use the boot data (%s protocol): %s\n",
			bootinfo_protocol_name((int)protocol), why);
		kernel_exit(TORO_EXIT_PANIC);
	}
	kstrlcpy(cmdline_words, boot_info.cmdline, sizeof(cmdline_words));
	cmdline_parse(cmdline_words, boot_info.cmdline_has_image_path,
		      options, sizeof(options) / sizeof(options[0]), &cmdline,
		      warn_word);
	log_boot_info(&boot_info);

	memory_init(&boot_info);
	smp_discover(&boot_info);
	devices_discover(&boot_info);
	vm_init();
	sched_init();
	heap_init_cpu();
	smp_init(max_cpus);
	prof_init();
	sched_start_ticking();
	devices_probe();
	virtio_console_check();
	dedicate_check();
	fs_init(&boot_info);
	if (net_init)
		net_init();
	crt_start(&cmdline);
}
