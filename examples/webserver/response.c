/*
 * What the server answers: given a parsed request, response.c builds the
 * head in the connection's buffer and points the body at a cache entry,
 * a file range to stream, the /stats document or a small error page;
 * conn.c then writes it.  The mapping from the file system to HTTP lives
 * here: directories and their index, redirects, 403 for what is never
 * served, conditional requests and ranges, and errno to status.
 */
#define _GNU_SOURCE
#include "cache.h"
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCATION_MAX	1500

void
response_release(struct conn *c)
{
	if (c->entry)
		cache_put(c->entry);
	free(c->owned);
	if (c->file_fd >= 0)
		close(c->file_fd);
	c->entry = NULL;
	c->owned = NULL;
	c->file_fd = c->send_fd = -1;
	c->body = NULL;
	c->hdr_len = c->hdr_off = c->body_len = c->body_off = 0;
	c->file_pos = c->file_end = 0;
	c->chunk_len = c->chunk_off = 0;
}

static void
hdr_add(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
hdr_add(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->hdr + c->hdr_len, HDR_CAP - c->hdr_len, fmt, ap);
	va_end(ap);
	/* HDR_CAP holds the longest head we build (Location is bounded). */
	if (n > 0)
		c->hdr_len += (size_t)n < HDR_CAP - c->hdr_len ? (size_t)n :
			HDR_CAP - 1 - c->hdr_len;
}

/*
 * The parts of every response, appended without a format to parse:
 * vsnprintf was an eighth of the server's busy time on Toro serving a
 * small page, more than TCP's output path.
 */
static void
hdr_put(struct conn *c, const char *s)
{
	size_t n = strlen(s), room = HDR_CAP - 1 - c->hdr_len;

	if (n > room)
		n = room;
	memcpy(c->hdr + c->hdr_len, s, n);
	c->hdr_len += n;
	c->hdr[c->hdr_len] = '\0';
}

static void
hdr_put_u64(struct conn *c, uint64_t v)
{
	char digits[21];
	size_t i = sizeof(digits) - 1;

	digits[i] = '\0';
	do
		digits[--i] = (char)('0' + v % 10);
	while (v /= 10);
	hdr_put(c, digits + i);
}

static void
begin_headers(struct conn *c, int status)
{
	c->hdr_len = c->hdr_off = 0;
	hdr_put(c, "HTTP/1.1 ");
	hdr_put_u64(c, (uint64_t)status);
	hdr_put(c, " ");
	hdr_put(c, http_reason(status));
	hdr_put(c, "\r\nServer: toro-webserver\r\nDate: ");
	hdr_put(c, c->w->date);
	hdr_put(c, "\r\n");
}

/*
 * Ends the head (Content-Length: length when send_length), decides
 * whether the connection stays open, drops the body of a HEAD, and
 * counts and logs the response.
 */
static void
end_headers(struct conn *c, const struct http_request *req, int status,
	    uint64_t length, int send_length)
{
	struct worker *w = c->w;
	int head = req->method == HTTP_HEAD;

	if (send_length) {
		hdr_put(c, "Content-Length: ");
		hdr_put_u64(c, length);
		hdr_put(c, "\r\n");
	}
	if (!req->keep_alive)
		c->close_after = 1;
	if (c->close_after)
		hdr_put(c, "Connection: close\r\n\r\n");
	else if (req->version == 10)
		hdr_put(c, "Connection: keep-alive\r\n\r\n");
	else
		hdr_put(c, "\r\n");
	if (head) {
		c->body_len = 0;
		c->file_pos = c->file_end = 0;
	}
	STAT_ADD(w, requests, 1);
	STAT_ADD(w, status[status_slot(status)], 1);
	if (cfg.log)
		log_request(w, c->peer, req, status, head ? 0 : length);
}

static const char *
error_page(int status, size_t *len)
{
	static char pages[STATUS_SLOTS][128];
	static size_t lens[STATUS_SLOTS];
	int slot = status_slot(status);

	/* Built once per status by error_pages_init() before any worker
	 * starts, so the workers only ever read them. */
	if (!lens[slot])
		lens[slot] = (size_t)snprintf(pages[slot], sizeof(pages[slot]),
			"<!DOCTYPE html><title>%d %s</title><h1>%d %s</h1>\n",
			status, http_reason(status), status, http_reason(status));
	*len = lens[slot];
	return pages[slot];
}

void
error_pages_init(void)
{
	size_t len;

	for (int i = 0; i < STATUS_SLOTS - 1; i++)
		error_page(status_codes[i], &len);
}

void
respond_error(struct conn *c, const struct http_request *req, int status)
{
	size_t len;
	const char *page = error_page(status, &len);

	switch (status) {
	case 400: case 408: case 413: case 414: case 431: case 500: case 501:
	case 505: case 503:
		/* After a refused head we cannot tell where the next request
		 * starts, and after 500 or 503 we would rather have fewer
		 * connections. */
		c->close_after = 1;
		break;
	}
	begin_headers(c, status);
	hdr_add(c, "Content-Type: text/html; charset=utf-8\r\n");
	if (status == 405)
		hdr_add(c, "Allow: GET, HEAD\r\n");
	if (status == 503)
		hdr_add(c, "Retry-After: 1\r\n");
	c->body = page;
	c->body_len = len;
	end_headers(c, req, status, len, 1);
}

static int
status_for_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return 404;
	case EACCES:
	case EPERM:
		return 403;
	case ENAMETOOLONG:
		return 414;
	default:
		return 500;	/* ELOOP, EIO, ENOMEM: our problem, not the client's */
	}
}

/* 301 to the directory's slash form, path re-encoded, query kept; 0 or 414. */
static int
respond_redirect(struct conn *c, const struct http_request *req,
		 const char *path, struct http_str query)
{
	static const char keep[] = "-._~/!$&'()*+,;=:@";
	char loc[LOCATION_MAX + 8];
	size_t n = 0, len;
	const char *page;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (n + 4 > LOCATION_MAX)
			return 414;
		if ((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') ||
		    strchr(keep, *p))
			loc[n++] = (char)*p;
		else
			n += (size_t)snprintf(loc + n, 4, "%%%02X", *p);
	}
	if (n + 1 + query.len > LOCATION_MAX)
		return 414;
	loc[n++] = '/';
	memcpy(loc + n, query.p, query.len);
	n += query.len;
	page = error_page(301, &len);
	begin_headers(c, 301);
	hdr_add(c, "Location: %.*s\r\nContent-Type: text/html; charset=utf-8\r\n",
		(int)n, loc);
	c->body = page;
	c->body_len = len;
	end_headers(c, req, 301, len, 1);
	return 0;
}

struct representation {
	uint64_t size;
	time_t mtime;
	const char *last_modified;
	const char *content_type;
};

/*
 * Conditional request and range for a file of r->size bytes: sets the
 * head and returns the byte range [*first, *end) to send, or 0 bytes.
 */
static void
respond_representation(struct conn *c, const struct http_request *req,
		       const struct representation *r, uint64_t *first, uint64_t *end)
{
	time_t since;
	int status = 200;
	uint64_t a = 0, b = 0;

	*first = *end = 0;
	if (req->if_modified_since.len &&
	    http_parse_date(req->if_modified_since, &since) == 0 && r->mtime <= since) {
		begin_headers(c, 304);
		hdr_add(c, "Last-Modified: %s\r\n", r->last_modified);
		end_headers(c, req, 304, 0, 0);
		return;
	}
	/* Range is defined for GET only; If-Range with a date we did not send
	 * means the client's copy is another version: send it all. */
	if (req->range.len && req->method == HTTP_GET &&
	    (!req->if_range.len ||
	     (req->if_range.len == strlen(r->last_modified) &&
	      memcmp(req->if_range.p, r->last_modified, req->if_range.len) == 0))) {
		switch (http_parse_range(req->range, r->size, &a, &b)) {
		case HTTP_RANGE_OK:
			status = 206;
			break;
		case HTTP_RANGE_UNSATISFIABLE:
			begin_headers(c, 416);
			hdr_add(c, "Content-Range: bytes */%llu\r\n",
				(unsigned long long)r->size);
			end_headers(c, req, 416, 0, 1);
			return;
		case HTTP_RANGE_NONE:
			break;
		}
	}
	begin_headers(c, status);
	hdr_put(c, "Content-Type: ");
	hdr_put(c, r->content_type);
	hdr_put(c, "\r\nLast-Modified: ");
	hdr_put(c, r->last_modified);
	hdr_put(c, "\r\nAccept-Ranges: bytes\r\n");
	if (status == 206) {
		hdr_add(c, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)a,
			(unsigned long long)b, (unsigned long long)r->size);
		*first = a;
		*end = b + 1;
	} else {
		*end = r->size;
	}
	end_headers(c, req, status, *end - *first, 1);
}

static void
respond_entry(struct conn *c, const struct http_request *req, struct cache_entry *e)
{
	struct representation r = { e->size, e->mtime, e->last_modified, e->content_type };
	uint64_t first, end;

	respond_representation(c, req, &r, &first, &end);
	c->entry = e;
	if (req->method == HTTP_GET && end > first && e->fd >= 0) {
		/* A RAM file: sent from the file (the entry keeps it open). */
		c->send_fd = e->fd;
		c->file_pos = first;
		c->file_end = end;
	} else if (req->method == HTTP_GET && end > first) {
		c->body = e->data + first;
		c->body_len = (size_t)(end - first);
	}
}

/* A file over cache_file_max: its range goes out with sendfile (or in
 * CHUNK_SIZE preads).  Returns 0, or the status of the error to send
 * instead. */
static int
respond_stream(struct conn *c, const struct http_request *req, const char *fs_path)
{
	char lm[30];
	struct representation r;
	struct stat st;
	uint64_t first, end;
	int fd = open(fs_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return status_for_errno(err);
	}
	http_format_date(st.st_mtime, lm);
	r = (struct representation){ (uint64_t)st.st_size, st.st_mtime, lm,
				     http_content_type(fs_path) };
	respond_representation(c, req, &r, &first, &end);
	if (req->method == HTTP_GET && end > first) {
		c->file_fd = c->send_fd = fd;
		c->file_pos = first;
		c->file_end = end;
	} else {
		close(fd);
	}
	return 0;
}

static int
respond_stats(struct conn *c, const struct http_request *req)
{
	size_t len = 0;

	c->owned = stats_json(&len);
	if (!c->owned)
		return 500;
	begin_headers(c, 200);
	hdr_add(c, "Content-Type: application/json\r\nCache-Control: no-store\r\n");
	c->body = c->owned;
	c->body_len = len;
	end_headers(c, req, 200, len, 1);
	return 0;
}

/*
 * Sets up the response for a decoded request path.  Returns 0, or the
 * status of the error response the caller sends instead.
 */
static int
serve_path(struct conn *c, const struct http_request *req, const char *path,
	   struct http_str query)
{
	struct cache_entry *e = cache_lookup(path, c->w->now_ms);
	char fs[sizeof(cfg.root) + 1100];
	size_t plen = strlen(path), rlen = strlen(cfg.root);
	struct stat st;
	int err;

	if (e) {
		respond_entry(c, req, e);
		return 0;
	}
	if (rlen + plen + sizeof("index.html") > sizeof(fs))
		return 414;
	memcpy(fs, cfg.root, rlen);
	memcpy(fs + rlen, path, plen + 1);
	if (stat(fs, &st) < 0)
		return status_for_errno(errno);
	if (S_ISDIR(st.st_mode)) {
		if (path[plen - 1] != '/')
			return respond_redirect(c, req, path, query);
		memcpy(fs + rlen + plen, "index.html", sizeof("index.html"));
		/* No index and no listing: the directory exists, but there
		 * is nothing in it we are willing to show. */
		if (stat(fs, &st) < 0)
			return errno == ENOENT ? 403 : status_for_errno(errno);
	}
	if (!S_ISREG(st.st_mode))
		return 403;
	if ((uint64_t)st.st_size > cfg.cache_file_max)
		return respond_stream(c, req, fs);
	e = cache_load(path, fs, &st, c->w->now_ms, &err);
	if (e) {
		respond_entry(c, req, e);
		return 0;
	}
	if (err == -EFBIG)	/* it grew since the stat */
		return respond_stream(c, req, fs);
	return status_for_errno(-err);
}

void
handle_request(struct conn *c, const struct http_request *req)
{
	char path[4096];
	struct http_str query;
	size_t cap = cfg.limits.path_max + 1 < sizeof(path) ?
		cfg.limits.path_max + 1 : sizeof(path);
	long n;
	int status;

	if (req->method == HTTP_UNKNOWN)
		status = 501;
	else if (req->method == HTTP_OTHER_KNOWN)
		status = 405;
	else if ((n = http_decode_path(req->target, path, cap, &query)) < 0)
		status = (int)-n;
	else if (strcmp(path, "/stats") == 0)
		status = respond_stats(c, req);
	else
		status = serve_path(c, req, path, query);
	if (status)
		respond_error(c, req, status);
}
