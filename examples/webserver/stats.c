/*
 * What the server tells about itself: the access log (one line per
 * response, in the combined log format, buffered per worker and written
 * to stdout at the end of each loop turn rather than once per request,
 * since on Toro stdout is a serial port) and the /stats page, a JSON
 * document summing every worker's counters with the cache's, and on Toro
 * the kernel's heap and network counters.  Nothing here is on the
 * request path's hot side except log_request() itself.
 */
#define _GNU_SOURCE
#include "cache.h"
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<toro/heap.h>)
#include <toro/heap.h>
#define HAVE_TORO_HEAP 1
#endif
/* The network stack's counters, on a Toro that has one. */
#if __has_include(<toro/net.h>)
#include <toro/net.h>
#define HAVE_TORO_NET 1
#endif
#endif

#define LOG_CAP		16384
#define LOG_LINE_MAX	2048
#define LOG_FIELD_MAX	512

const int status_codes[STATUS_SLOTS - 1] = {
	200, 206, 301, 304, 400, 403, 404, 405, 408, 413, 414, 416, 431,
	500, 501, 503, 505,
};

int
status_slot(int status)
{
	for (int i = 0; i < STATUS_SLOTS - 1; i++)
		if (status_codes[i] == status)
			return i;
	return STATUS_SLOTS - 1;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* a log that cannot be written is not fatal */
		p += w;
		n -= (size_t)w;
	}
}

void
log_line(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	write_all(1, line, (size_t)n);
}

void
log_flush(struct worker *w)
{
	if (w->loglen) {
		write_all(1, w->logbuf, w->loglen);
		w->loglen = 0;
	}
}

/* A client-controlled string, quoted safely: no '"', '\\' or control bytes. */
static size_t
put_escaped(char *out, struct http_str s)
{
	size_t n = 0;

	if (!s.len) {
		out[n++] = '-';
		return n;
	}
	for (size_t i = 0; i < s.len && n < LOG_FIELD_MAX; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
			n += (size_t)sprintf(out + n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	return n;
}

void
log_request(struct worker *w, const char *peer, const struct http_request *req,
	    int status, uint64_t bytes)
{
	char *p;
	size_t n;

	if (!w->logbuf)
		return;
	if (w->loglen + LOG_LINE_MAX > LOG_CAP)
		log_flush(w);
	p = w->logbuf + w->loglen;
	n = (size_t)sprintf(p, "%s - - [%s] \"", peer, w->log_date);
	n += put_escaped(p + n, req->request_line);
	n += (size_t)sprintf(p + n, "\" %d %llu \"", status, (unsigned long long)bytes);
	n += put_escaped(p + n, req->referer);
	n += (size_t)sprintf(p + n, "\" \"");
	n += put_escaped(p + n, req->user_agent);
	p[n++] = '"';
	p[n++] = '\n';
	w->loglen += n;
}

/* ---------------------------------------------------------------- /stats */

struct buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = b->failed ? 0 : vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0 || b->failed) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *np = realloc(b->p, b->cap * 2 + (size_t)n);
		if (!np) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static uint64_t
sum(size_t offset)
{
	uint64_t total = 0;

	for (int i = 0; i < nworkers; i++)
		total += __atomic_load_n((uint64_t *)((char *)&workers[i].st + offset),
					 __ATOMIC_RELAXED);
	return total;
}

#define SUM(field) sum(offsetof(struct worker_stats, field))

static void
put_kernel_stats(struct buf *b)
{
#ifdef HAVE_TORO_HEAP
	uint64_t small = 0, large = 0, spans = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct toro_heap_stats hs;

		if (toro_heap_stats(cpu, &hs) == 0) {
			small += hs.small_bytes;
			large += hs.large_bytes;
			spans += hs.spans;
		}
	}
	put(b, ",\n    \"heap_small_bytes\": %llu, \"heap_large_bytes\": %llu, "
	    "\"heap_spans\": %llu", (unsigned long long)small,
	    (unsigned long long)large, (unsigned long long)spans);
#endif
	put(b, "\n  }");
#ifdef HAVE_TORO_NET
	struct toro_net_stats ns;

	if (toro_net_stats(&ns, sizeof(ns)) == 0)
		put(b, ",\n  \"net\": {\"rx_packets\": %llu, \"rx_bytes\": %llu, "
		    "\"rx_dropped\": %llu, \"tx_packets\": %llu, \"tx_bytes\": %llu, "
		    "\"tcp_rx\": %llu, \"tcp_tx\": %llu, \"tcp_retransmit\": %llu, "
		    "\"tcp_passive_open\": %llu, \"tcp_rst_tx\": %llu, "
		    "\"tcp_established\": %u, \"netbufs_in_use\": %llu}",
		    (unsigned long long)ns.rx_packets, (unsigned long long)ns.rx_bytes,
		    (unsigned long long)ns.rx_dropped, (unsigned long long)ns.tx_packets,
		    (unsigned long long)ns.tx_bytes, (unsigned long long)ns.tcp_rx,
		    (unsigned long long)ns.tcp_tx, (unsigned long long)ns.tcp_retransmit,
		    (unsigned long long)ns.tcp_passive_open,
		    (unsigned long long)ns.tcp_rst_tx,
		    ns.tcp_states[1],	/* TCP_ESTABLISHED */
		    (unsigned long long)ns.netbufs_in_use);
#endif
}

char *
stats_json(size_t *len)
{
	struct buf b = { malloc(4096), 0, 4096, 0 };
	struct cache_stats cs;
	const char *sep = "";

	if (!b.p)
		return NULL;
	cache_get_stats(&cs);
	put(&b, "{\n  \"server\": \"toro-webserver\", \"platform\": \"%s\",\n"
	    "  \"uptime_ms\": %lld, \"workers\": %d,\n"
	    "  \"requests\": %llu, \"bytes_sent\": %llu,\n  \"status\": {",
	    platform_name, (long long)(monotonic_ms() - start_ms), nworkers,
	    (unsigned long long)SUM(requests), (unsigned long long)SUM(bytes_sent));
	for (int i = 0; i < STATUS_SLOTS; i++) {
		uint64_t n = sum(offsetof(struct worker_stats, status) + i * sizeof(uint64_t));

		if (i < STATUS_SLOTS - 1)
			put(&b, "%s\"%d\": %llu", sep, status_codes[i], (unsigned long long)n);
		else
			put(&b, "%s\"other\": %llu", sep, (unsigned long long)n);
		sep = ", ";
	}
	put(&b, "},\n  \"connections\": {\"open\": %d, \"accepted\": %llu, "
	    "\"refused\": %llu, \"timed_out\": %llu, \"max\": %d},\n",
	    __atomic_load_n(&open_conns, __ATOMIC_RELAXED),
	    (unsigned long long)SUM(accepted), (unsigned long long)SUM(refused),
	    (unsigned long long)SUM(timed_out), cfg.max_conns);
	put(&b, "  \"limits\": {\"header_timeout_s\": %d, \"idle_timeout_s\": %d, "
	    "\"send_timeout_s\": %d, \"request_line_max\": %zu, "
	    "\"header_bytes_max\": %zu, \"header_count_max\": %u, "
	    "\"path_max\": %zu, \"body_max\": %llu},\n",
	    cfg.header_timeout_s, cfg.idle_timeout_s, cfg.send_timeout_s,
	    cfg.limits.request_line_max, cfg.limits.header_bytes_max,
	    cfg.limits.header_count_max, cfg.limits.path_max,
	    (unsigned long long)cfg.limits.body_max);
	put(&b, "  \"cache\": {\"entries\": %llu, \"bytes\": %llu, \"max_bytes\": %llu, "
	    "\"file_max\": %llu, \"hits\": %llu, \"misses\": %llu, \"evictions\": %llu},\n",
	    (unsigned long long)cs.entries, (unsigned long long)cs.bytes,
	    (unsigned long long)cs.max_bytes, (unsigned long long)cs.file_max,
	    (unsigned long long)cs.hits, (unsigned long long)cs.misses,
	    (unsigned long long)cs.evictions);
	put(&b, "  \"memory\": {\n    \"connection_bytes\": %llu, \"cache_bytes\": %llu",
	    (unsigned long long)__atomic_load_n(&conn_memory, __ATOMIC_RELAXED),
	    (unsigned long long)cs.bytes);
	put_kernel_stats(&b);
	put(&b, "\n}\n");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
