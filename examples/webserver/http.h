/*
 * HTTP/1.1 message parsing and formatting for the web server: pure
 * functions over byte buffers, no sockets and no files, so every rule
 * about what a request may look like lives here and nowhere else.
 */
#ifndef WEBSERVER_HTTP_H
#define WEBSERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Limits a request is parsed under; exceeding one is the status named. */
struct http_limits {
	size_t request_line_max;	/* 414 */
	size_t header_bytes_max;	/* 431: request line excluded */
	unsigned header_count_max;	/* 431 */
	size_t path_max;		/* 414: decoded path */
	uint64_t body_max;		/* 413: a larger Content-Length */
};

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER_KNOWN,	/* POST, PUT, ...: 405 */
	HTTP_UNKNOWN,		/* a valid token we do not know: 501 */
};

/* A string inside the request buffer; len 0 when the header was absent. */
struct http_str {
	const char *p;
	size_t len;
};

struct http_request {
	enum http_method method;
	struct http_str method_name;
	struct http_str target;
	struct http_str request_line;	/* for the access log */
	int version;			/* 10 or 11 */
	int keep_alive;			/* after this request, by version and Connection */
	int has_body;			/* Content-Length > 0 */
	uint64_t content_length;
	struct http_str range;
	struct http_str if_modified_since;
	struct http_str if_range;
	struct http_str user_agent;
	struct http_str referer;
	size_t header_len;		/* bytes of request line and headers */
};

/*
 * Parses one request head at the start of buf[0..len).  Returns the
 * head's length (> 0) when it is complete and valid, 0 when more bytes
 * are needed, or minus an HTTP status (400, 413, 414, 431, 501, 505) for a
 * request that must be refused.  When it returns a status, *req holds
 * whatever was parsed before the fault (the request line when there was
 * one), for the access log.
 */
long http_parse_request(const char *buf, size_t len,
			const struct http_limits *lim, struct http_request *req);

/*
 * Percent-decodes the path of a request target into out (NUL-terminated,
 * at most cap - 1 bytes), after an absolute-form target's scheme and
 * authority and before its query.  Refuses (minus a status): 400 a target
 * that is not origin- or absolute-form, a bad escape, an encoded '/',
 * NUL or control byte; 403 a segment that starts with '.' ("..", ".",
 * dot-files); 414 a path over cap - 1 bytes.  Returns the path length;
 * *query points at the query ('?' included, or an empty string).
 */
long http_decode_path(struct http_str target, char *out, size_t cap,
		      struct http_str *query);

/* Formats t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), 29 bytes + NUL. */
void http_format_date(time_t t, char out[30]);

/* Parses the three HTTP date formats (RFC 9110 5.6.7); -1 if invalid. */
int http_parse_date(struct http_str s, time_t *t);

enum http_range_result {
	HTTP_RANGE_NONE,		/* absent, malformed, or several: send it all */
	HTTP_RANGE_OK,			/* 206 with [*first, *last] */
	HTTP_RANGE_UNSATISFIABLE,	/* 416 */
};

/* Interprets a Range header value for a representation of size bytes. */
enum http_range_result http_parse_range(struct http_str s, uint64_t size,
					uint64_t *first, uint64_t *last);

/* The media type for a path by its extension; never NULL. */
const char *http_content_type(const char *path);

/* The reason phrase of a status we send. */
const char *http_reason(int status);

#endif
