/*
 * What the parts of the web server share: the configuration, the workers
 * (one thread and one epoll loop each) and their counters.
 */
#ifndef WEBSERVER_SERVER_H
#define WEBSERVER_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"

#define MAX_CPUS	256

struct config {
	const char *bind_addr;
	int port;
	char root[1024];
	int workers;
	int cpus[MAX_CPUS];		/* worker i runs on cpus[i % ncpus] */
	int ncpus;
	int log;
	size_t cache_max;
	size_t cache_file_max;		/* larger files are streamed */
	size_t sendfile_min;		/* RAM files this big: sendfile, not cached */
	int sendfile;			/* 0: --no-sendfile */
	int max_conns;
	int header_timeout_s;		/* a request head must arrive in this time */
	int idle_timeout_s;		/* keep-alive connection with no request */
	int send_timeout_s;		/* a response that makes no progress */
	struct http_limits limits;
};

extern struct config cfg;

/* The statuses /stats counts one by one; anything else is "other". */
#define STATUS_SLOTS	18
int status_slot(int status);
extern const int status_codes[STATUS_SLOTS - 1];

/*
 * A worker's counters: written only by its own thread (a relaxed load and
 * store, no locked instruction), read by whichever worker serves /stats.
 */
struct worker_stats {
	uint64_t requests;
	uint64_t bytes_sent;
	uint64_t accepted;
	uint64_t refused;	/* over the connection limit: 503 */
	uint64_t timed_out;
	uint64_t status[STATUS_SLOTS];
};

#define STAT_ADD(w, field, n) \
	__atomic_store_n(&(w)->st.field, \
			 __atomic_load_n(&(w)->st.field, __ATOMIC_RELAXED) + (n), \
			 __ATOMIC_RELAXED)

struct conn;

struct worker {
	int index;
	int cpu;			/* -1: not pinned */
	int epfd;
	pthread_t thread;
	struct conn *conns;		/* every open connection of this worker */
	int64_t now_ms;			/* CLOCK_MONOTONIC, once per loop turn */
	time_t now_s;			/* wall clock, for Date and the log */
	char date[30];			/* Date: header for now_s */
	char log_date[32];		/* 10/Oct/2000:13:55:36 +0000 */
	int64_t last_sweep_ms;
	int64_t accept_resume_ms;	/* out of descriptors: listener off until then */
	char *logbuf;
	size_t loglen;
	struct worker_stats st;
};

extern struct worker *workers;
extern int nworkers;
extern int listen_fd;
extern int open_conns;			/* atomic: every worker's connections */
extern uint64_t conn_memory;		/* atomic: bytes held by connections */
extern volatile int stopping;
extern int64_t start_ms;
extern const char *platform_name;

/* conn.c */
int worker_setup(struct worker *w);
void *worker_main(void *arg);
int64_t monotonic_ms(void);
void error_pages_init(void);

/* stats.c */
char *stats_json(size_t *len);
void log_request(struct worker *w, const char *peer,
		 const struct http_request *req, int status, uint64_t bytes);
void log_flush(struct worker *w);
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
