/*
 * The kernel command line: kernel options, the application's environment
 * and its arguments, in Linux's syntax.
 *
 *   [OPTION[=VALUE] | NAME=VALUE]... [-- ARG...]
 *
 * Before "--", a word naming a kernel option sets it; any other NAME=VALUE
 * goes to the application's environment; other words are reported and
 * ignored.  After "--", every word is an argument (argv[1..]).  Double
 * quotes group words with spaces ("a b"); inside quotes \" and \\ escape.
 * Options marked "anywhere" are recognised after "--" too: QEMU's microvm
 * appends virtio_mmio.device= to whatever the user wrote.
 */
#ifndef TORO_CMDLINE_H
#define TORO_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#define CMDLINE_MAX_WORDS	256
#define CMDLINE_MAX_ARGS	128
#define CMDLINE_MAX_ENV		128

struct kernel_option {
	const char *name;
	/*
	 * value is NULL for a bare word; returns 0 or a negative errno.
	 * NULL: the part of the kernel the option is for is not in this
	 * image (a weak reference: the network stack without sockets); the
	 * option is recognised, ignored and reported.
	 */
	int (*set)(const char *value);
	bool anywhere;
	const char *help;
};

struct cmdline {
	const char *image_path;		/* first word on multiboot, or NULL */
	int argc;			/* arguments after "--" (no argv[0]) */
	char *argv[CMDLINE_MAX_ARGS + 1];
	int envc;
	char *envp[CMDLINE_MAX_ENV + 1];
	unsigned ignored;		/* words reported and dropped */
};

typedef void (*cmdline_warn_fn)(const char *what, const char *word);

/*
 * Splits buf into words in place (quotes removed), storing at most max of
 * them and their number in *count.  Returns 0, -E2BIG when there were more
 * than max (the rest are dropped; the caller reports it), or -EINVAL for an
 * unterminated quote (the rest of the line is then one word).
 */
int cmdline_split(char *buf, char **words, int max, int *count);

/* Splits and classifies buf; calls warn for every word it cannot use. */
void cmdline_parse(char *buf, bool first_is_image,
		   const struct kernel_option *opts, size_t nopts,
		   struct cmdline *out, cmdline_warn_fn warn);

#endif
