/*
 * Panic, backtraces and the final exit.  The backtrace follows the %rbp
 * chain (the kernel and Toro's application flags keep frame pointers; musl's
 * libc.a does not, so a chain through musl may end early) and names each
 * address from the image's own symbol table.
 */
#include "lib/kernel/panic.h"

#include <stdarg.h>

#include <toro/status.h>

#include "arch/x86_64/cpu.h"
#include "lib/kernel/ksyms.h"
#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"

static void
print_frame(int depth, uint64_t rip)
{
	uint64_t off;
	const char *name = ksym_lookup_self(rip, &off);

	if (name)
		kprintf("  #%-2d 0x%016llx %s+0x%llx\n", depth,
			(unsigned long long)rip, name, (unsigned long long)off);
	else
		kprintf("  #%-2d 0x%016llx ?\n", depth, (unsigned long long)rip);
}

void
backtrace_print(uint64_t rip, uint64_t rbp)
{
	kprintf("backtrace:\n");
	print_frame(0, rip);
	for (int depth = 1; depth < 32; depth++) {
		if (!rbp || (rbp & 7) || !vm_range_mapped(rbp, 16))
			break;
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t next = frame[0], ret = frame[1];
		if (!ret)
			break;
		/* The return address points after the call: name the call. */
		print_frame(depth, ret - 1);
		if (next <= rbp)
			break;
		rbp = next;
	}
}

void
kernel_exit(int status)
{
	pr_debug("exit status %d\n", status);
	arch_poweroff(status);
}

void
panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kprintf("toro: panic: %s\n", msg);
	const uint64_t *fp = __builtin_frame_address(0);
	backtrace_print(fp[1] - 1, fp[0]);
	kprintf("toro: stopping with status %d\n", TORO_EXIT_PANIC);
	kernel_exit(TORO_EXIT_PANIC);
}
