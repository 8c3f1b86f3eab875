/*
 * The kernel command line (lib/kernel/cmdline.c).  cmdline_split: plain
 * words, runs of spaces/tabs/newlines, quotes grouping spaces, \" and \\
 * inside quotes (and backslashes kept elsewhere), empty quoted words, an
 * unterminated quote (-EINVAL, rest of the line one word), more words than
 * max (-E2BIG).  cmdline_parse: kernel options before "--" call their
 * setter (with the value or NULL), NAME=VALUE becomes environment, words
 * after "--" are arguments even when they contain '=' or name an option,
 * except options marked "anywhere"; unknown words are warned about and
 * counted in ignored, as are options whose setter fails; the multiboot
 * image path is stripped unless it is "--" or contains '='; the word,
 * argument and environment limits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/kernel/cmdline.h"
#include "tap.h"

/* ------------------------------------------------------------ split */

static char sbuf[8192];
static char *sw[CMDLINE_MAX_WORDS + 8];
static int sn;

static int
split(const char *line, int max)
{
	snprintf(sbuf, sizeof(sbuf), "%s", line);
	memset(sw, 0, sizeof(sw));
	sn = -1;
	return cmdline_split(sbuf, sw, max, &sn);
}

/* Checks the split of line against the expected words, NULL-terminated. */
static void
split_is(const char *line, const char *const *want, const char *what)
{
	int n = 0;

	while (want[n])
		n++;
	int r = split(line, 64);
	is_int(r, 0, "%s: returns 0", what);
	if (!is_int(sn, n, "%s: %d words", what, n))
		return;
	int bad = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(sw[i], want[i])) {
			diag("word %d: got '%s', want '%s'", i, sw[i], want[i]);
			bad++;
		}
	}
	is_int(bad, 0, "%s: words match", what);
}

#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
test_split(void)
{
	split_is("a b c", W("a", "b", "c"), "plain words");
	split_is("  one\t\ttwo   three \n four\r\n", W("one", "two", "three", "four"),
		 "runs of spaces, tabs and newlines");
	split_is("console=ttyS0 -- x", W("console=ttyS0", "--", "x"), "'=' and '--' are plain words");
	split_is("say \"hello world\" now", W("say", "hello world", "now"), "quotes group spaces");
	split_is("a\"b c\"d", W("ab cd"), "quotes inside a word");
	split_is("NAME=\"two words\"", W("NAME=two words"), "quoted value");
	split_is("\"\\\"quoted\\\"\"", W("\"quoted\""), "\\\" inside quotes");
	split_is("\"back\\\\slash\"", W("back\\slash"), "\\\\ inside quotes");
	split_is("\"keep\\n\\x\"", W("keep\\n\\x"), "other backslashes inside quotes kept");
	split_is("C:\\\\dir a\\b", W("C:\\\\dir", "a\\b"), "backslashes outside quotes kept");
	split_is("a \"\" b", W("a", "", "b"), "empty quoted word");
	split_is("\"\"", W(""), "only an empty quoted word");
	split_is("\"\t\"", W("\t"), "quoted tab");

	is_int(split("", 64), 0, "empty line: returns 0");
	is_int(sn, 0, "empty line: no words");
	is_int(split(" \t\n ", 64), 0, "blank line: returns 0");
	is_int(sn, 0, "blank line: no words");

	is_int(split("a \"b c  d", 64), -EINVAL, "unterminated quote: -EINVAL");
	is_int(sn, 2, "unterminated quote: two words");
	is_str(sw[1], "b c  d", "unterminated quote: the rest of the line is one word");
	is_int(split("x \"", 64), -EINVAL, "lone quote at the end: -EINVAL");
	is_int(sn, 2, "lone quote: an empty word");
	is_str(sw[1], "", "lone quote: word is empty");

	is_int(split("a b c d e", 3), -E2BIG, "more words than max: -E2BIG");
	is_int(sn, 3, "count clamped to max");
	ok(sw[0] && !strcmp(sw[2], "c") && sw[3] == NULL,
	   "first max words stored, nothing past words[max - 1]");
	is_int(split("a b c", 3), 0, "exactly max words: 0");
	is_int(sn, 3, "exactly max words counted");
	is_int(split("a b c ", 3), 0, "exactly max words and trailing space: 0");
}

/* ------------------------------------------------------------ parse */

static int quiet_calls, level_calls, virtio_calls, stack_calls;
static const char *level_value, *virtio_value;
static int quiet_was_null = -1;

static int
set_quiet(const char *v)
{
	quiet_calls++;
	quiet_was_null = v == NULL;
	return v ? -EINVAL : 0;
}

static int
set_loglevel(const char *v)
{
	level_calls++;
	level_value = v;
	return v && v[0] >= '0' && v[0] <= '3' && !v[1] ? 0 : -EINVAL;
}

static int
set_virtio(const char *v)
{
	virtio_calls++;
	virtio_value = v;
	return v ? 0 : -EINVAL;
}

static int
set_stack(const char *v)
{
	(void)v;
	stack_calls++;
	return 0;
}

static const struct kernel_option opts[] = {
	{ "quiet", set_quiet, false, "log errors only" },
	{ "loglevel", set_loglevel, false, "0 .. 3" },
	{ "virtio_mmio.device", set_virtio, true, "virtio-mmio device" },
	{ "stack", set_stack, false, "stack size" },
	/* A part the image was linked without (a weak reference: NULL). */
	{ "ip", NULL, false, "network configuration" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int warnings;
static char first_what[128], last_what[128], last_word[256];

static void
warn(const char *what, const char *word)
{
	if (!warnings++)
		snprintf(first_what, sizeof(first_what), "%s", what);
	snprintf(last_what, sizeof(last_what), "%s", what);
	snprintf(last_word, sizeof(last_word), "%s", word);
}

static char pbuf[16384];
static struct cmdline cl;

static void
parse(const char *line, bool first_is_image)
{
	snprintf(pbuf, sizeof(pbuf), "%s", line);
	memset(&cl, 0x5a, sizeof(cl));
	warnings = quiet_calls = level_calls = virtio_calls = stack_calls = 0;
	quiet_was_null = -1;
	level_value = virtio_value = NULL;
	first_what[0] = last_what[0] = last_word[0] = '\0';
	cmdline_parse(pbuf, first_is_image, opts, NOPTS, &cl, warn);
}

static void
test_classify(void)
{
	parse("", false);
	ok(cl.image_path == NULL && cl.argc == 0 && cl.envc == 0 && cl.ignored == 0,
	   "empty line: nothing");
	ok(cl.argv[0] == NULL && cl.envp[0] == NULL, "empty line: argv and envp terminated");
	is_int(warnings, 0, "empty line: no warnings");

	parse("quiet loglevel=3 HOME=/root TERM=vt100 -- -v x=1 \"two words\"", false);
	is_int(quiet_calls, 1, "bare option calls its setter once");
	is_int(quiet_was_null, 1, "bare option: setter gets NULL");
	is_int(level_calls, 1, "option=value calls its setter");
	is_str(level_value, "3", "option=value: setter gets the value");
	is_int(cl.envc, 2, "two environment words");
	is_str(cl.envp[0], "HOME=/root", "envp[0]");
	is_str(cl.envp[1], "TERM=vt100", "envp[1]");
	ok(cl.envp[2] == NULL, "envp NULL-terminated");
	is_int(cl.argc, 3, "three arguments after --");
	is_str(cl.argv[0], "-v", "argv[0] is the first word after --");
	is_str(cl.argv[1], "x=1", "a word with '=' after -- is an argument");
	is_str(cl.argv[2], "two words", "quoted argument");
	ok(cl.argv[3] == NULL, "argv NULL-terminated");
	is_int(cl.ignored, 0, "nothing ignored");
	is_int(warnings, 0, "no warnings");
	ok(cl.image_path == NULL, "no image path without first_is_image");

	parse("-- quiet loglevel=2 -- stack=1", false);
	is_int(quiet_calls + level_calls + stack_calls, 0,
	       "options after -- are not applied");
	is_int(cl.argc, 4, "they are arguments, and so is a second --");
	is_str(cl.argv[0], "quiet", "argv[0] = quiet");
	is_str(cl.argv[1], "loglevel=2", "argv[1] = loglevel=2");
	is_str(cl.argv[2], "--", "argv[2] = --");
	is_str(cl.argv[3], "stack=1", "argv[3] = stack=1");

	parse("loglevel=1 -- app virtio_mmio.device=512@0xfeb00e00:12", false);
	is_int(virtio_calls, 1, "an 'anywhere' option after -- is applied");
	is_str(virtio_value, "512@0xfeb00e00:12", "with its value");
	is_int(cl.argc, 1, "and is not an argument");
	is_str(cl.argv[0], "app", "the argument stays");
	is_int(warnings, 0, "no warnings");

	parse("virtio_mmio.device=1@2:3 virtio_mmio.device=4@5:6", false);
	is_int(virtio_calls, 2, "an 'anywhere' option before -- too, once per word");
	is_str(virtio_value, "4@5:6", "last value seen last");

	parse("loglevel=3x", false);
	is_int(level_calls, 1, "setter called for a bad value");
	is_int(cl.ignored, 1, "a failing setter counts as ignored");
	is_int(warnings, 1, "and is warned about");
	is_str(last_word, "loglevel=3x", "the warning names the word");
	ok(strstr(last_what, "invalid") != NULL, "the warning says the value is invalid");

	parse("ip=dhcp quiet -- app", false);
	is_int(cl.ignored, 1, "an option whose part is not in the image counts as ignored");
	is_int(warnings, 1, "and is warned about");
	is_str(last_word, "ip=dhcp", "the warning names the word");
	ok(strstr(last_what, "does not contain") != NULL, "the warning says the image lacks it");
	is_int(quiet_calls, 1, "the options around it still apply");
	is_int(cl.argc, 1, "and the arguments after -- are the program's");

	parse("quiet=yes loglevel", false);
	is_int(quiet_calls, 1, "quiet=yes reaches the setter");
	is_int(quiet_was_null, 0, "with a value");
	is_int(level_calls, 1, "bare loglevel reaches the setter");
	ok(level_value == NULL, "with NULL");
	is_int(cl.ignored, 2, "both rejected, both ignored");
	is_int(warnings, 2, "both warned");

	parse("quiet= stack", false);
	is_int(quiet_calls, 1, "quiet= calls the setter");
	is_int(quiet_was_null, 0, "with an empty value, not NULL");
	is_int(stack_calls, 1, "bare stack calls the setter");

	parse("bogus quietly QUIET -x =value", false);
	is_int(quiet_calls, 0, "no prefix or case-insensitive option match");
	is_int(cl.ignored, 5, "unknown bare words and '=value' ignored");
	is_int(warnings, 5, "each warned once");
	is_str(last_word, "=value", "the last warning names =value");
	ok(strstr(last_what, "--") != NULL, "the warning hints at --");
	is_int(cl.envc, 0, "'=value' is not environment");
	is_int(cl.argc, 0, "and not an argument");

	parse("A=1 B= =C D==", false);
	is_int(cl.envc, 3, "A=1, B= and D== are environment");
	is_str(cl.envp[1], "B=", "empty value kept");
	is_str(cl.envp[2], "D==", "value may contain '='");
	is_int(cl.ignored, 1, "=C ignored");

	parse("\"NAME=a b\" \"quiet\" -- \"\"", false);
	is_str(cl.envp[0], "NAME=a b", "quoted environment value");
	is_int(quiet_calls, 1, "a quoted option name is still the option");
	is_int(cl.argc, 1, "an empty quoted argument is an argument");
	is_str(cl.argv[0], "", "argv[0] is empty");

	parse("x \"unterminated -- y", false);
	is_int(warnings, 3, "unterminated quote: warned, plus the two unknown words");
	ok(strstr(first_what, "quote") != NULL, "the first warning is about the quote");
	is_str(last_word, "unterminated -- y", "the open quote runs to the end");
	is_int(cl.argc, 0, "the -- inside the open quote does not count");
	is_int(cl.ignored, 2, "both words ignored");
}

static void
test_image(void)
{
	parse("/boot/kernel.elf quiet -- a", true);
	is_str(cl.image_path, "/boot/kernel.elf", "first word is the image path");
	is_int(quiet_calls, 1, "options after it still apply");
	is_int(cl.argc, 1, "arguments after it");
	is_int(warnings, 0, "the image path is not warned about");

	parse("quiet", true);
	is_str(cl.image_path, "quiet", "first word stripped even if it names an option");
	is_int(quiet_calls, 0, "and is not applied");

	parse("-- a b", true);
	ok(cl.image_path == NULL, "'--' first is not the image path");
	is_int(cl.argc, 2, "and still starts the arguments");

	parse("HOME=/ x", true);
	ok(cl.image_path == NULL, "a first word with '=' is not the image path");
	is_int(cl.envc, 1, "it is environment");
	is_int(cl.ignored, 1, "x is unknown");

	parse("", true);
	ok(cl.image_path == NULL, "empty line with first_is_image: no image path");
	parse("   ", true);
	ok(cl.image_path == NULL && cl.argc == 0, "blank line with first_is_image");

	parse("kernel", true);
	is_str(cl.image_path, "kernel", "only the image path");
	is_int(cl.argc + cl.envc + (int)cl.ignored + warnings, 0, "and nothing else");
}

static void
test_limits(void)
{
	static char lbuf[8192];
	size_t len = 0;

	/* 127 environment words, "--", 129 arguments: 257 words. */
	for (int i = 0; i < 127; i++)
		len += (size_t)sprintf(lbuf + len, "E%d=%d ", i, i);
	len += (size_t)sprintf(lbuf + len, "-- ");
	for (int i = 0; i < 129; i++)
		len += (size_t)sprintf(lbuf + len, "a%d ", i);
	parse(lbuf, false);
	is_int(cl.envc, 127, "257 words: environment kept");
	is_int(cl.argc, 128, "257 words: the 257th word is dropped");
	is_str(cl.argv[127], "a127", "last kept argument");
	ok(cl.argv[128] == NULL, "argv terminated after CMDLINE_MAX_ARGS");
	is_int(warnings, 1, "one warning for too many words");
	ok(strstr(last_what, "too many words") != NULL, "the warning says so");
	is_str(last_word, "a127", "and names the last word kept");

	/* 130 arguments: two over CMDLINE_MAX_ARGS. */
	len = (size_t)sprintf(lbuf, "--");
	for (int i = 0; i < CMDLINE_MAX_ARGS + 2; i++)
		len += (size_t)sprintf(lbuf + len, " arg%d", i);
	parse(lbuf, false);
	is_int(cl.argc, CMDLINE_MAX_ARGS, "arguments capped at CMDLINE_MAX_ARGS");
	ok(cl.argv[CMDLINE_MAX_ARGS] == NULL, "argv[CMDLINE_MAX_ARGS] is NULL");
	is_int(cl.ignored, 2, "two arguments ignored");
	is_int(warnings, 2, "two warnings");
	is_str(last_word, "arg129", "the last warning names the last argument");

	/* 130 environment words. */
	len = 0;
	for (int i = 0; i < CMDLINE_MAX_ENV + 2; i++)
		len += (size_t)sprintf(lbuf + len, "V%d=x ", i);
	parse(lbuf, false);
	is_int(cl.envc, CMDLINE_MAX_ENV, "environment capped at CMDLINE_MAX_ENV");
	ok(cl.envp[CMDLINE_MAX_ENV] == NULL, "envp[CMDLINE_MAX_ENV] is NULL");
	is_int(cl.ignored, 2, "two variables ignored");
	is_int(warnings, 2, "two warnings");

	/* 300 words in all, with an anywhere option past the limit. */
	len = (size_t)sprintf(lbuf, "--");
	for (int i = 0; i < 300; i++)
		len += (size_t)sprintf(lbuf + len, " %s", i == 299 ? "virtio_mmio.device=x" : "w");
	parse(lbuf, false);
	is_int(virtio_calls, 0, "words past CMDLINE_MAX_WORDS are not looked at");
	is_int(cl.argc, CMDLINE_MAX_ARGS, "arguments still capped");
	is_int(warnings, 1 + (CMDLINE_MAX_WORDS - 1 - CMDLINE_MAX_ARGS),
	       "one too-many-words warning plus one per dropped argument");
}

int
main(void)
{
	test_split();
	test_classify();
	test_image();
	test_limits();
	return done_testing();
}
