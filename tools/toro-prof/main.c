/* main.c: toro-prof's command line -- `record` samples a running QEMU,
 * `report`, `folded` and `flamegraph` read a recording, check it against
 * the image and print.  Everything a command does lives in its own file;
 * this one only parses options and connects them.  See toro-prof(1). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "prof.h"

#ifndef TORO_VERSION
#define TORO_VERSION "unknown"
#endif

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: toro-prof record (--gdb HOST:PORT | --qmp PATH) [OPTION]... -o FILE IMAGE\n"
		"       toro-prof record --in-guest --gdb HOST:PORT [--qmp PATH] [OPTION]... -o FILE IMAGE\n"
		"       toro-prof report [--lines] [--callers FUNC | --callees FUNC] [OPTION]... FILE\n"
		"       toro-prof folded [--per-cpu] [OPTION]... FILE\n"
		"       toro-prof flamegraph [--title TEXT] [OPTION]... FILE > FILE.svg\n"
		"Sample the stacks of every vCPU of a running Toro guest from the host, then\n"
		"report where the time went.\n\n"
		"record options:\n"
		"  --gdb HOST:PORT     sample through QEMU's gdbstub (toro-run --gdb=PORT)\n"
		"  --qmp PATH          sample through a QMP socket (toro-run --qmp PATH)\n"
		"  --in-guest          the kernel samples (each core's timer), toro-prof drains\n"
		"                      its rings: through the gdbstub, or with --qmp too without\n"
		"                      stopping the VM\n"
		"  --drain SECONDS     --in-guest: seconds between drains (default 0.1)\n"
		"  --rate HZ           sampling rounds per second (default 100); --in-guest:\n"
		"                      samples per second per vCPU (at most 100000)\n"
		"  --duration SECONDS  how long to record (default 10; the guest exiting ends it too)\n"
		"  --wait SECONDS      keep trying to connect this long (default 0)\n"
		"  --max-depth N       frames kept per stack (default and most %d)\n"
		"  -o, --output FILE   the recording (default toro.prof)\n"
		"  -q, --quiet         no summary on standard error\n"
		"report, folded and flamegraph options:\n"
		"  --image PATH        the image, if not where the recording says\n"
		"  --lines             per source line instead of per function\n"
		"  --callers FUNC      the call chains that lead to FUNC\n"
		"  --callees FUNC      what FUNC calls\n"
		"  --limit N           print at most N rows (default 40; 0 all)\n"
		"  --idle              count idle (halted) samples as work too\n"
		"  --per-cpu           folded: put cpuN as the root frame\n"
		"  --title TEXT        flamegraph: its title\n"
		"  -h, --help          show this help\n"
		"      --version       show the version\n"
		"See toro-prof(1).\n", PROF_MAX_DEPTH);
}

enum {
	OPT_GDB = 256, OPT_QMP, OPT_RATE, OPT_DURATION, OPT_WAIT, OPT_DEPTH, OPT_IMAGE,
	OPT_LINES, OPT_CALLERS, OPT_CALLEES, OPT_LIMIT, OPT_IDLE, OPT_PERCPU, OPT_TITLE, OPT_VERSION, OPT_INGUEST, OPT_DRAIN,
};

static const struct option options[] = {
	{"gdb", required_argument, 0, OPT_GDB},
	{"qmp", required_argument, 0, OPT_QMP},
	{"rate", required_argument, 0, OPT_RATE},
	{"in-guest", no_argument, 0, OPT_INGUEST},
	{"drain", required_argument, 0, OPT_DRAIN},
	{"duration", required_argument, 0, OPT_DURATION},
	{"wait", required_argument, 0, OPT_WAIT},
	{"max-depth", required_argument, 0, OPT_DEPTH},
	{"output", required_argument, 0, 'o'},
	{"quiet", no_argument, 0, 'q'},
	{"image", required_argument, 0, OPT_IMAGE},
	{"lines", no_argument, 0, OPT_LINES},
	{"callers", required_argument, 0, OPT_CALLERS},
	{"callees", required_argument, 0, OPT_CALLEES},
	{"limit", required_argument, 0, OPT_LIMIT},
	{"idle", no_argument, 0, OPT_IDLE},
	{"per-cpu", no_argument, 0, OPT_PERCPU},
	{"title", required_argument, 0, OPT_TITLE},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, OPT_VERSION},
	{0, 0, 0, 0},
};

static int
bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "toro-prof: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'toro-prof --help'.\n");
	return 2;
}

static double
number(const char *s, const char *what, int *bad)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0)) {
		bad_usage(what, s);
		*bad = 1;
	}
	return v;
}

/* report, folded, flamegraph: load, check the image, symbolise, print. */
static int
analyse(const char *cmd, const char *file, const char *image_path, struct report_opts *ro,
	int per_cpu, const char *title)
{
	struct recording rec;
	struct image im;
	struct stacks st;
	char err[512];
	int status = 1;

	if (rec_load(&rec, file, err, sizeof err)) {
		fprintf(stderr, "toro-prof: %s\n", err);
		return 1;
	}
	if (!image_path)
		image_path = rec.image;
	if (!image_path) {
		fprintf(stderr, "toro-prof: %s names no image; give one with --image\n", file);
		rec_free(&rec);
		return 1;
	}
	if (image_open(&im, image_path, err, sizeof err)) {
		fprintf(stderr, "toro-prof: %s\n", err);
		rec_free(&rec);
		return 1;
	}
	if (rec.image_id && im.id != rec.image_id) {
		fprintf(stderr, "toro-prof: %s is not the image %s was recorded from (its code "
			"differs); give the right one with --image\n", image_path, file);
		goto out;
	}
	struct symbols *sym = sym_open(image_path, err, sizeof err);
	if (!sym) {
		fprintf(stderr, "toro-prof: %s\n", err);
		goto out;
	}
	if (stacks_build(&st, &rec, sym, &im, ro->lines) == 0) {
		int r;
		if (!strcmp(cmd, "report"))
			r = report_print(stdout, &rec, &st, ro);
		else if (!strcmp(cmd, "folded"))
			r = folded_print(stdout, &st, per_cpu, ro->include_idle);
		else
			r = flame_svg(stdout, &st, title ? title : image_path, ro->include_idle);
		status = r || fflush(stdout) ? 1 : 0;
	} else {
		fprintf(stderr, "toro-prof: out of memory\n");
	}
	stacks_free(&st);
	sym_close(sym);
out:
	image_close(&im);
	rec_free(&rec);
	return status;
}

int
main(int argc, char **argv)
{
	struct record_opts ro = {.rate = 100, .duration = 10, .max_depth = PROF_MAX_DEPTH,
				 .output = "toro.prof"};
	struct report_opts po = {.limit = 40};
	const char *image = NULL, *title = NULL;
	int per_cpu = 0, bad = 0, c;

	if (argc < 2)
		return usage(stderr), 2;
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(stdout), 0;
	if (!strcmp(argv[1], "--version"))
		return printf("toro-prof (Toro %s)\n", TORO_VERSION), 0;
	const char *cmd = argv[1];
	if (strcmp(cmd, "record") && strcmp(cmd, "report") && strcmp(cmd, "folded") &&
	    strcmp(cmd, "flamegraph"))
		return bad_usage("unknown command '%s'", cmd);
	optind = 2;
	while (!bad && (c = getopt_long(argc, argv, "o:qh", options, NULL)) != -1) {
		switch (c) {
		case OPT_GDB: ro.gdb = optarg; break;
		case OPT_QMP: ro.qmp = optarg; break;
		case OPT_INGUEST: ro.in_guest = 1; break;
		case OPT_DRAIN: ro.drain = number(optarg, "--drain needs seconds, not '%s'", &bad); break;
		case OPT_RATE: ro.rate = number(optarg, "--rate needs a positive number, not '%s'", &bad); break;
		case OPT_DURATION: ro.duration = number(optarg, "--duration needs seconds, not '%s'", &bad); break;
		case OPT_WAIT: ro.wait = number(optarg, "--wait needs seconds, not '%s'", &bad); break;
		case OPT_DEPTH:
			ro.max_depth = number(optarg, "--max-depth needs a number, not '%s'", &bad);
			if (ro.max_depth < 1 || ro.max_depth > PROF_MAX_DEPTH)
				ro.max_depth = PROF_MAX_DEPTH;
			break;
		case 'o': ro.output = optarg; break;
		case 'q': ro.quiet = 1; break;
		case OPT_IMAGE: image = optarg; break;
		case OPT_LINES: po.lines = 1; break;
		case OPT_CALLERS: po.callers = optarg; break;
		case OPT_CALLEES: po.callees = optarg; break;
		case OPT_LIMIT: po.limit = number(optarg, "--limit needs a number, not '%s'", &bad); break;
		case OPT_IDLE: po.include_idle = 1; break;
		case OPT_PERCPU: per_cpu = 1; break;
		case OPT_TITLE: title = optarg; break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("toro-prof (Toro %s)\n", TORO_VERSION); return 0;
		default: return bad_usage("%s", "bad option");
		}
	}
	if (bad)
		return 2;
	if (optind != argc - 1)
		return bad_usage("%s needs exactly one file argument", cmd);
	if (!strcmp(cmd, "record")) {
		if (ro.in_guest && !ro.gdb)
			return bad_usage("%s --in-guest: give --gdb HOST:PORT (and --qmp PATH to drain "
					 "without stopping the VM)", cmd);
		if (!ro.in_guest && !ro.gdb == !ro.qmp)
			return bad_usage("%s: give exactly one of --gdb HOST:PORT and --qmp PATH", cmd);
		if (ro.rate <= 0)
			return bad_usage("--rate must be above zero, not %s", "0");
		ro.image = argv[optind];
		return record_run(&ro);
	}
	return analyse(cmd, argv[optind], image, &po, per_cpu, title);
}
