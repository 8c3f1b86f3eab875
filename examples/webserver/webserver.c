/*
 * A static web server: Toro's demo appliance, and an ordinary POSIX C
 * program that builds unchanged for Linux (gcc, musl-gcc) and for Toro
 * (x86_64-toro-gcc).  This file is the start-up: options, the directory
 * it serves (and the mounts that bring it in), the listening socket and
 * one worker thread per core.  The connection loop is in conn.c, the
 * responses in response.c, HTTP parsing in http.c, the file cache in
 * cache.c, the log and /stats in stats.c.
 *
 *   webserver [--port 80] [--root DIR] [--workers N] [--cpus 0,1] [--no-log]
 *             [--cache-max BYTES] [--mount SOURCE:DIR[:TYPE]] ...
 *
 * Without --root it serves the first of: the directory of --mount; /srv
 * when it holds index.html (the kernel option mount=www:/srv:virtiofs, or
 * a Linux guest's own mount); on Toro, virtio-fs tag "www" mounted on /srv
 * (toro-run --share DIR:www), then the FAT disk /dev/vda on /srv
 * (toro-run --disk site.img); /site (an initrd made from the site/ folder,
 * toro-run --initrd site.cpio).  It says which on its first line.
 */
#define _GNU_SOURCE
#include "cache.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<toro/toro.h>)
#define ON_TORO 1
#endif
#endif

#ifdef ON_TORO
const char *platform_name = "toro";
#else
const char *platform_name = "linux";
#endif

struct config cfg = {
	.bind_addr = "0.0.0.0",
	.port = 80,
	.workers = 0,
	.log = 1,
	.cache_max = 64u << 20,
	.cache_file_max = 4u << 20,
	.sendfile_min = 16u << 10,
	.sendfile = 1,
	.max_conns = 960,	/* Toro has 1024 descriptors; leave room for files */
	.header_timeout_s = 10,
	.idle_timeout_s = 10,
	.send_timeout_s = 30,
	.limits = {
		.request_line_max = 8192,
		.header_bytes_max = 16384,
		.header_count_max = 100,
		.path_max = 1024,
		.body_max = 64 * 1024,
	},
};

struct worker *workers;
int nworkers;
int listen_fd = -1;
int open_conns;
uint64_t conn_memory;
volatile int stopping;
int64_t start_ms;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: webserver [options]\n"
		"  --port N              TCP port (80; 0 picks a free one)\n"
		"  --bind ADDR           IPv4 address to listen on (0.0.0.0)\n"
		"  --root DIR            directory to serve (default: see below)\n"
		"  --mount SRC:DIR[:TYPE] mount SRC on DIR first (TYPE virtiofs,\n"
		"                        or vfat when SRC starts with /dev/) and serve DIR\n"
		"  --workers N           worker threads (online CPUs)\n"
		"  --cpus LIST           pin worker i to the i-th CPU of LIST (0,1 or 0-3);\n"
		"                        default: the CPUs the process may run on\n"
		"  --no-log              no access log\n"
		"  --cache-max BYTES     file cache size (64M)\n"
		"  --cache-file-max BYTES larger files are streamed, not cached (4M)\n"
		"  --sendfile-min BYTES  files this big that a RAM file system holds (the\n"
		"                        initrd) are sent with sendfile(), not copied (16K)\n"
		"  --no-sendfile         copy everything through the cache or pread()\n"
		"  --max-conns N         open connections; beyond it 503 (960)\n"
		"  --header-timeout S    a request head must arrive within S s (10)\n"
		"  --idle-timeout S      keep-alive connection idle time (10)\n"
		"Default root: /srv if it has index.html; on Toro, virtio-fs tag \"www\"\n"
		"then /dev/vda (FAT) mounted on /srv; then /site.\n");
}

/* 64M, 512K, 1G or plain bytes; 0 on a bad number. */
static size_t
parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	return *end || end == s ? 0 : (size_t)v;
}

static int
parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* "0,2,4-7" into cfg.cpus. */
static int
parse_cpus(const char *s)
{
	cfg.ncpus = 0;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -1;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b >= CPU_SETSIZE)
				return -1;
		}
		for (long c = a; c <= b && cfg.ncpus < MAX_CPUS; c++)
			cfg.cpus[cfg.ncpus++] = (int)c;
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return cfg.ncpus ? 0 : -1;
}

static int
has_index(const char *dir)
{
	char p[1100];
	struct stat st;

	snprintf(p, sizeof(p), "%s/index.html", dir);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int
is_dir(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* SOURCE:DIR[:TYPE]; the directory becomes the root unless --root says. */
static int
do_mount(const char *spec, char *dir_out, size_t cap)
{
	char buf[1024], *dir, *type;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	dir = strchr(buf, ':');
	if (!dir || dir == buf || !dir[1])
		return -1;
	*dir++ = '\0';
	type = strchr(dir, ':');
	if (type)
		*type++ = '\0';
	else
		type = strncmp(buf, "/dev/", 5) == 0 ? "vfat" : "virtiofs";
	mkdir(dir, 0755);
	if (mount(buf, dir, type, 0, NULL) < 0) {
		log_line("webserver: mount %s on %s (%s): %s", buf, dir, type, strerror(errno));
		return -1;
	}
	log_line("webserver: mounted %s on %s (%s)", buf, dir, type);
	snprintf(dir_out, cap, "%s", dir);
	return 0;
}

#ifdef ON_TORO
/* The application is the whole machine: it may mount what it was given. */
static int
try_mount(const char *source, const char *type)
{
	mkdir("/srv", 0755);
	if (mount(source, "/srv", type, 0, NULL) < 0)
		return -1;
	if (has_index("/srv")) {
		log_line("webserver: mounted %s (%s) on /srv", source, type);
		return 0;
	}
	umount2("/srv", 0);
	return -1;
}
#endif

static const char *
choose_root(const char *mounted)
{
	if (cfg.root[0])
		return is_dir(cfg.root) ? "--root" : NULL;
	if (mounted[0]) {
		snprintf(cfg.root, sizeof(cfg.root), "%s", mounted);
		return "--mount";
	}
	if (has_index("/srv")) {
		strcpy(cfg.root, "/srv");
		return "/srv (already mounted)";
	}
#ifdef ON_TORO
	if (try_mount("www", "virtiofs") == 0) {
		strcpy(cfg.root, "/srv");
		return "virtio-fs tag www";
	}
	if (try_mount("/dev/vda", "vfat") == 0) {
		strcpy(cfg.root, "/srv");
		return "FAT disk /dev/vda";
	}
#endif
	if (is_dir("/site")) {
		strcpy(cfg.root, "/site");
		return "the initrd's /site";
	}
	return NULL;
}

static int
open_listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.port) };
	socklen_t len = sizeof(sa);
	int one = 1, fd;

	if (inet_pton(AF_INET, cfg.bind_addr, &sa.sin_addr) != 1) {
		log_line("webserver: --bind %s: not an IPv4 address", cfg.bind_addr);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_line("webserver: socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0) {
		log_line("webserver: %s:%d: %s", cfg.bind_addr, cfg.port, strerror(errno));
		close(fd);
		return -1;
	}
	/* Every worker polls it; the one whose accept finds nothing moves on. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		cfg.port = ntohs(sa.sin_port);
	return fd;
}

/* The default placement: worker i on the i-th CPU this process may use. */
static void
default_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int c = 0; c < CPU_SETSIZE && cfg.ncpus < MAX_CPUS; c++)
			if (CPU_ISSET(c, &set))
				cfg.cpus[cfg.ncpus++] = c;
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int
parse_args(int argc, char **argv, char *mounted, size_t mcap)
{
	const char *a = "";

	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		char name[32];
		const char *eq;

		a = argv[i];
		eq = strchr(a, '=');

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--no-log") == 0) {
			cfg.log = 0;
			continue;
		}
		if (strcmp(a, "--no-sendfile") == 0) {
			cfg.sendfile = 0;
			continue;
		}
		if (strncmp(a, "--", 2) != 0)
			goto bad;
		if (eq && (size_t)(eq - a) < sizeof(name)) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = '\0';
			v = eq + 1;
		} else if (!eq && strlen(a) < sizeof(name) && i + 1 < argc) {
			strcpy(name, a);
			v = argv[++i];
		} else {
			goto bad;
		}
		if (strcmp(name, "--port") == 0) {
			if (parse_int(v, 0, 65535, &cfg.port) < 0)
				goto bad;
		} else if (strcmp(name, "--bind") == 0) {
			cfg.bind_addr = v;
		} else if (strcmp(name, "--root") == 0) {
			if (strlen(v) >= sizeof(cfg.root) - 1)
				goto bad;
			strcpy(cfg.root, v);
		} else if (strcmp(name, "--mount") == 0) {
			if (do_mount(v, mounted, mcap) < 0)
				return -1;
		} else if (strcmp(name, "--workers") == 0) {
			if (parse_int(v, 1, 1024, &cfg.workers) < 0)
				goto bad;
		} else if (strcmp(name, "--cpus") == 0) {
			if (parse_cpus(v) < 0)
				goto bad;
		} else if (strcmp(name, "--cache-max") == 0) {
			if (!(cfg.cache_max = parse_size(v)))
				goto bad;
		} else if (strcmp(name, "--cache-file-max") == 0) {
			if (!(cfg.cache_file_max = parse_size(v)))
				goto bad;
		} else if (strcmp(name, "--sendfile-min") == 0) {
			if (!(cfg.sendfile_min = parse_size(v)))
				goto bad;
		} else if (strcmp(name, "--max-conns") == 0) {
			if (parse_int(v, 1, 1 << 20, &cfg.max_conns) < 0)
				goto bad;
		} else if (strcmp(name, "--header-timeout") == 0) {
			if (parse_int(v, 1, 3600, &cfg.header_timeout_s) < 0)
				goto bad;
		} else if (strcmp(name, "--idle-timeout") == 0) {
			if (parse_int(v, 1, 3600, &cfg.idle_timeout_s) < 0)
				goto bad;
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	fprintf(stderr, "webserver: bad option or value: %s\n", a);
	usage(stderr);
	return -1;
}

/* Fewer file descriptors than connections would turn the limit into
 * EMFILE busy loops instead of 503s. */
static void
fit_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	if (rl.rlim_cur < (rlim_t)cfg.max_conns + 64 && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)cfg.max_conns + 64 && rl.rlim_cur > 128)
		cfg.max_conns = (int)(rl.rlim_cur - 64);
}

int
main(int argc, char **argv)
{
	char mounted[1024] = "";
	const char *how;
	int status = 0;

	start_ms = monotonic_ms();
	/* A client that closes early makes write fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (parse_args(argc, argv, mounted, sizeof(mounted)) < 0)
		return 2;
	how = choose_root(mounted);
	if (!how) {
		log_line("webserver: nothing to serve: %s%s", cfg.root[0] ? cfg.root :
			 "no --root, no /srv/index.html, no virtio-fs \"www\", no FAT /dev/vda, no /site",
			 cfg.root[0] ? " is not a directory" : "");
		return 1;
	}
	/* A trailing '/' would double in root + "/path". */
	for (size_t n = strlen(cfg.root); n > 1 && cfg.root[n - 1] == '/'; n--)
		cfg.root[n - 1] = '\0';
	if (strcmp(cfg.root, "/") == 0)
		cfg.root[0] = '\0';
	if (!cfg.ncpus)
		default_cpus();
	if (!cfg.workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg.workers = n > 0 ? (int)n : 1;
	}
	fit_fd_limit();
	if (cfg.cache_file_max > cfg.cache_max)
		cfg.cache_file_max = cfg.cache_max;
	error_pages_init();
	if (cache_init(cfg.cache_max, cfg.cache_file_max, cfg.sendfile ? cfg.sendfile_min : 0) < 0)
		return 1;
	listen_fd = open_listener();
	if (listen_fd < 0)
		return 1;

	nworkers = cfg.workers;
	workers = calloc((size_t)nworkers, sizeof(*workers));
	if (!workers)
		return 1;
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		w->index = i;
		w->cpu = cfg.ncpus ? cfg.cpus[i % cfg.ncpus] : -1;
		w->logbuf = cfg.log ? malloc(16384) : NULL;
		if (worker_setup(w) < 0) {
			log_line("webserver: epoll: %s", strerror(errno));
			return 1;
		}
	}
	log_line("webserver: serving %s (%s) on http://%s:%d/ with %d worker%s%s",
		 cfg.root[0] ? cfg.root : "/", how, cfg.bind_addr, cfg.port, nworkers,
		 nworkers == 1 ? "" : "s", cfg.ncpus ? ", pinned" : "");
	for (int i = 1; i < nworkers; i++) {
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			log_line("webserver: cannot start worker %d", i);
			stopping = 1;
			nworkers = i;
			status = 1;
			break;
		}
	}
	worker_main(&workers[0]);
	for (int i = 1; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	log_line("webserver: stopped");
	for (int i = 0; i < nworkers; i++) {
		close(workers[i].epfd);
		free(workers[i].logbuf);
	}
	close(listen_fd);
	cache_destroy();
	free(workers);
	return status;
}
