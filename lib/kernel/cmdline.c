/*
 * Command-line splitting and classification (syntax in cmdline.h).  Pure
 * logic, unit-tested on the host; the option handlers it calls live with
 * the subsystems they configure.
 */
#include "lib/kernel/cmdline.h"

#include <errno.h>

#include "lib/kernel/kstring.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
cmdline_split(char *buf, char **words, int max, int *count)
{
	char *src = buf, *dst = buf;
	int n = 0, err = 0;

	for (;;) {
		while (is_space(*src))
			src++;
		if (!*src)
			break;
		char *word = dst;
		bool quoted = false;
		while (*src && (quoted || !is_space(*src))) {
			if (*src == '"') {
				quoted = !quoted;
				src++;
			} else if (quoted && *src == '\\' &&
				   (src[1] == '"' || src[1] == '\\')) {
				*dst++ = src[1];
				src += 2;
			} else {
				*dst++ = *src++;
			}
		}
		if (quoted)
			err = -EINVAL;
		bool more = *src != '\0';
		*dst++ = '\0';
		if (more)
			src++;
		if (n < max)
			words[n] = word;
		else
			err = -E2BIG;
		n++;
		if (!more)
			break;
	}
	*count = n < max ? n : max;
	return err;
}

static const struct kernel_option *
find_option(const struct kernel_option *opts, size_t nopts, const char *word,
	    const char **value)
{
	const char *eq = kstrchr(word, '=');
	size_t len = eq ? (size_t)(eq - word) : kstrlen(word);

	for (size_t i = 0; i < nopts; i++) {
		if (kstrlen(opts[i].name) == len &&
		    !kstrncmp(opts[i].name, word, len)) {
			*value = eq ? eq + 1 : NULL;
			return &opts[i];
		}
	}
	return NULL;
}

static void
apply(const struct kernel_option *o, const char *value, const char *word,
      struct cmdline *out, cmdline_warn_fn warn)
{
	if (!o->set) {
		/* Its part was not linked in (main.c: no socket, no network stack). */
		out->ignored++;
		warn("kernel option for a part this image does not contain (ignored)", word);
	} else if (o->set(value)) {
		out->ignored++;
		warn("invalid value for kernel option", word);
	}
}

void
cmdline_parse(char *buf, bool first_is_image,
	      const struct kernel_option *opts, size_t nopts,
	      struct cmdline *out, cmdline_warn_fn warn)
{
	char *words[CMDLINE_MAX_WORDS];
	int n, i = 0;

	out->image_path = NULL;
	out->argc = out->envc = 0;
	out->ignored = 0;
	int err = cmdline_split(buf, words, CMDLINE_MAX_WORDS, &n);
	if (err == -E2BIG)
		warn("too many words on the command line; dropped after", words[n - 1]);
	else if (err == -EINVAL)
		warn("unterminated quote on the command line", n ? words[n - 1] : "");

	if (first_is_image && n > 0 && !kstrchr(words[0], '=') &&
	    kstrcmp(words[0], "--"))
		out->image_path = words[i++];

	bool after_dashes = false;
	for (; i < n; i++) {
		const char *w = words[i], *value;
		const struct kernel_option *o = find_option(opts, nopts, w, &value);
		if (!after_dashes && !kstrcmp(w, "--")) {
			after_dashes = true;
		} else if (o && (o->anywhere || !after_dashes)) {
			apply(o, value, w, out, warn);
		} else if (after_dashes) {
			if (out->argc < CMDLINE_MAX_ARGS) {
				out->argv[out->argc++] = words[i];
			} else {
				out->ignored++;
				warn("too many arguments; dropped", w);
			}
		} else if (kstrchr(w, '=') && w[0] != '=') {
			if (out->envc < CMDLINE_MAX_ENV) {
				out->envp[out->envc++] = words[i];
			} else {
				out->ignored++;
				warn("too many environment variables; dropped", w);
			}
		} else {
			out->ignored++;
			warn("unknown kernel option ignored (application arguments go after --)", w);
		}
	}
	out->argv[out->argc] = NULL;
	out->envp[out->envc] = NULL;
}
