/*
 * The C start-up: the kernel does for the application what Linux's execve
 * does for a static program.  It allocates the main stack (above a guard
 * page), lays out argc, argv, envp and the auxiliary vector exactly as the
 * Linux x86_64 ABI does, and jumps to musl's own _start (from crt1.o), which
 * runs __libc_start_main and then main().  musl finds the TLS template
 * through AT_PHDR, seeds its stack protector from AT_RANDOM, and sees
 * AT_SECURE = 0 with matching ids, so it skips the setuid fd checks.
 */
#include "lib/crt/start.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/panic.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/random.h"
#include "lib/mm/vm.h"

#define DEFAULT_STACK_SIZE (256 * 1024)

extern const Elf64_Ehdr __ehdr_start;
extern char _start[];		/* musl's crt1.o */

static unsigned long long stack_size = DEFAULT_STACK_SIZE;
static const char *argv0_option;

int
crt_set_stack_size(const char *value)
{
	unsigned long long v;

	if (!value || kparse_size(value, &v) || v < 16384 || v > (1ULL << 32))
		return -EINVAL;
	stack_size = v;
	return 0;
}

unsigned long
crt_stack_size(void)
{
	return (unsigned long)stack_size;
}

int
crt_set_argv0(const char *value)
{
	if (!value || !*value)
		return -EINVAL;
	argv0_option = value;
	return 0;
}

static const char *
basename_of(const char *path)
{
	const char *slash = NULL;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			slash = p;
	return slash ? slash + 1 : path;
}

/* Copies bytes to the top of the stack area, below *sp. */
static char *
push_bytes(uint64_t *sp, const void *data, size_t len)
{
	*sp -= len;
	memcpy((void *)*sp, data, len);
	return (char *)*sp;
}

void
crt_start(const struct cmdline *cl)
{
	uint64_t top = vm_alloc_stack(stack_size);

	if (!top)
		panic("out of memory for the %llu-byte main stack "
		      "(boot with more memory or a smaller stack=)",
		      stack_size);

	uint64_t sp = top;
	uint8_t random[16];
	random_fill(random, sizeof(random));
	char *at_random = push_bytes(&sp, random, sizeof(random));
	char *platform = push_bytes(&sp, "x86_64", 7);
	const char *argv0 = argv0_option ? argv0_option
			  : cl->image_path ? basename_of(cl->image_path)
					   : "app";
	char *execfn = push_bytes(&sp, argv0, kstrlen(argv0) + 1);

	uint32_t id[4];
	cpuid(1, 0, id);
	const Elf64_Ehdr *eh = &__ehdr_start;
	uint64_t auxv[][2] = {
		{ AT_PHDR, (uint64_t)eh + eh->e_phoff },
		{ AT_PHENT, eh->e_phentsize },
		{ AT_PHNUM, eh->e_phnum },
		{ AT_PAGESZ, 4096 },
		{ AT_ENTRY, (uint64_t)_start },
		{ AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 },
		{ AT_SECURE, 0 },
		{ AT_HWCAP, id[3] },
		{ AT_CLKTCK, 100 },
		{ AT_RANDOM, (uint64_t)at_random },
		{ AT_PLATFORM, (uint64_t)platform },
		{ AT_EXECFN, (uint64_t)execfn },
		{ AT_NULL, 0 },
	};
	size_t nauxv = sizeof(auxv) / sizeof(auxv[0]);
	size_t words = 1 + (size_t)cl->argc + 2 + (size_t)cl->envc + 1 + 2 * nauxv;

	sp &= ~15ULL;
	if (words & 1)
		sp -= 8;		/* %rsp must be 16-byte aligned at argc */
	sp -= words * 8;
	uint64_t *w = (uint64_t *)sp;
	*w++ = (uint64_t)cl->argc + 1;
	*w++ = (uint64_t)execfn;
	for (int i = 0; i < cl->argc; i++)
		*w++ = (uint64_t)cl->argv[i];
	*w++ = 0;
	for (int i = 0; i < cl->envc; i++)
		*w++ = (uint64_t)cl->envp[i];
	*w++ = 0;
	memcpy(w, auxv, sizeof(auxv));

	pr_debug("entering the application: argc %d, envc %d, stack %llu KiB\n",
		 cl->argc + 1, cl->envc, stack_size >> 10);
	arch_enter_user(_start, (void *)sp);
}
