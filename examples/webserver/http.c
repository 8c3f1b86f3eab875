/*
 * HTTP/1.1 request parsing (RFC 9112) and the small formatting helpers the
 * server needs: dates, ranges, media types, reason phrases.  Everything
 * here is a pure function of its arguments, so it behaves the same on
 * Linux and on Toro and can be driven by any byte sequence without a
 * socket.  The parser is deliberately strict: a request either matches the
 * grammar within the limits, or it is refused with the status that says
 * why; there is no "best effort" reading of a malformed head, because that
 * is where request smuggling and traversal bugs live.
 */
#define _GNU_SOURCE	/* timegm */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 5.6.2: the characters of a token (methods, header names). */
static int
is_tchar(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return 1;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
str_eq_ci(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/*
 * The request line may still be arriving: reject it as soon as a byte
 * shows it cannot be HTTP (binary garbage, a bare LF), instead of waiting
 * for a line end that a hostile client never sends.
 */
static int
request_line_bytes_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r') {
			if (i + 1 < n && p[i + 1] != '\n')
				return 0;
			continue;
		}
		if (c < 0x20 || c >= 0x7f)
			return 0;
	}
	return 1;
}

static const char *const known_methods[] = {
	"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
};

static enum http_method
classify_method(struct http_str m)
{
	if (m.len == 3 && memcmp(m.p, "GET", 3) == 0)
		return HTTP_GET;
	if (m.len == 4 && memcmp(m.p, "HEAD", 4) == 0)
		return HTTP_HEAD;
	for (size_t i = 0; i < sizeof(known_methods) / sizeof(*known_methods); i++)
		if (m.len == strlen(known_methods[i]) &&
		    memcmp(m.p, known_methods[i], m.len) == 0)
			return HTTP_OTHER_KNOWN;
	return HTTP_UNKNOWN;
}

/* method SP request-target SP HTTP-version, without the CRLF. */
static long
parse_request_line(const char *p, size_t n, struct http_request *req)
{
	const char *sp1 = memchr(p, ' ', n), *sp2;
	const char *v;

	req->request_line = (struct http_str){ p, n };
	if (!sp1 || sp1 == p)
		return -400;
	for (const char *m = p; m < sp1; m++)
		if (!is_tchar((unsigned char)*m))
			return -400;
	req->method_name = (struct http_str){ p, (size_t)(sp1 - p) };
	req->method = classify_method(req->method_name);
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p));
	if (!sp2)
		return -400;	/* HTTP/0.9 ("GET /") is not served */
	if (sp2 == sp1 + 1)
		return -400;
	req->target = (struct http_str){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	v = sp2 + 1;
	if ((size_t)(p + n - v) != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9')
		return -400;
	if (v[5] != '1')
		return -505;
	req->version = v[7] == '0' ? 10 : 11;
	return 0;
}

static int
parse_content_length(struct http_str v, uint64_t *out)
{
	uint64_t n = 0;

	if (v.len == 0)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		unsigned d = (unsigned char)v.p[i] - '0';

		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/* Connection: a comma-separated list of tokens; we act on two of them. */
static void
parse_connection(struct http_str v, int *close, int *keep)
{
	size_t i = 0;

	while (i < v.len) {
		size_t start, end;

		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
			i++;
		start = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		end = i;
		while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
			end--;
		struct http_str tok = { v.p + start, end - start };
		if (str_eq_ci(tok, "close"))
			*close = 1;
		else if (str_eq_ci(tok, "keep-alive"))
			*keep = 1;
	}
}

struct head_state {
	int hosts;
	int conn_close, conn_keep;
	int have_length;
	int transfer_encoding;
};

/* One field line "name: value" (no CRLF); 0 or minus a status. */
static long
parse_field(const char *p, size_t n, struct http_request *req,
	    struct head_state *st)
{
	const char *colon = memchr(p, ':', n);
	struct http_str name, val;
	size_t vs, ve;

	/* A leading space is obs-fold, a space before ':' is forbidden. */
	if (!colon || colon == p)
		return -400;
	for (const char *c = p; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			return -400;
	name = (struct http_str){ p, (size_t)(colon - p) };
	vs = (size_t)(colon - p) + 1;
	ve = n;
	while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	for (size_t i = vs; i < ve; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -400;
	}
	val = (struct http_str){ p + vs, ve - vs };

	if (str_eq_ci(name, "host")) {
		st->hosts++;
	} else if (str_eq_ci(name, "connection")) {
		parse_connection(val, &st->conn_close, &st->conn_keep);
	} else if (str_eq_ci(name, "content-length")) {
		uint64_t cl;

		if (parse_content_length(val, &cl) < 0)
			return -400;
		/* Two different lengths: which one a proxy used is unknowable. */
		if (st->have_length && cl != req->content_length)
			return -400;
		st->have_length = 1;
		req->content_length = cl;
	} else if (str_eq_ci(name, "transfer-encoding")) {
		st->transfer_encoding = 1;
	} else if (str_eq_ci(name, "range")) {
		req->range = val;
	} else if (str_eq_ci(name, "if-modified-since")) {
		req->if_modified_since = val;
	} else if (str_eq_ci(name, "if-range")) {
		req->if_range = val;
	} else if (str_eq_ci(name, "user-agent")) {
		req->user_agent = val;
	} else if (str_eq_ci(name, "referer")) {
		req->referer = val;
	}
	return 0;
}

static long
finish_head(struct http_request *req, const struct http_limits *lim,
	    const struct head_state *st)
{
	if (req->version == 11 && st->hosts != 1)
		return -400;
	if (req->version == 10 && st->hosts > 1)
		return -400;
	if (st->transfer_encoding)
		/* Both framings at once is the smuggling pattern. */
		return st->have_length ? -400 : -501;
	if (req->content_length > lim->body_max)
		return -413;
	req->has_body = req->content_length > 0;
	if (req->version == 11)
		req->keep_alive = !st->conn_close;
	else
		req->keep_alive = st->conn_keep && !st->conn_close;
	return 0;
}

long
http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
		   struct http_request *req)
{
	struct head_state st = { 0 };
	size_t i = 0, line_start, head_start;
	const char *lf;
	long r;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n' && i < 64)
		i += 2;
	line_start = i;
	{
		size_t avail = len - i;
		size_t scan = avail < lim->request_line_max + 2 ?
			avail : lim->request_line_max + 2;

		lf = memchr(buf + i, '\n', scan);
		if (!lf) {
			if (!request_line_bytes_ok(buf + i, scan))
				return -400;
			return avail > lim->request_line_max + 1 ? -414 : 0;
		}
	}
	{
		size_t n = (size_t)(lf - (buf + line_start));

		if (n == 0 || buf[line_start + n - 1] != '\r')
			return -400;	/* bare LF */
		n--;
		if (!request_line_bytes_ok(buf + line_start, n))
			return -400;
		if (n > lim->request_line_max)
			return -414;
		r = parse_request_line(buf + line_start, n, req);
		if (r < 0)
			return r;
	}

	head_start = i = (size_t)(lf - buf) + 1;
	for (unsigned count = 0;; count++) {
		size_t used = i - head_start, avail = len - i;
		size_t room = lim->header_bytes_max - (used < lim->header_bytes_max ?
						      used : lim->header_bytes_max);
		size_t scan = avail < room ? avail : room;
		size_t n;

		lf = memchr(buf + i, '\n', scan);
		if (!lf)
			return avail >= room ? -431 : 0;
		n = (size_t)(lf - (buf + i));
		if (n == 0 || buf[i + n - 1] != '\r')
			return -400;
		n--;
		if (n == 0) {
			req->header_len = i + 2;
			r = finish_head(req, lim, &st);
			return r < 0 ? r : (long)req->header_len;
		}
		if (count >= lim->header_count_max)
			return -431;
		if (memchr(buf + i, '\r', n))
			return -400;	/* a CR inside a line */
		r = parse_field(buf + i, n, req, &st);
		if (r < 0)
			return r;
		i += n + 2;
	}
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Skips "http://authority" of an absolute-form target (RFC 9112 3.2.2). */
static struct http_str
strip_absolute_form(struct http_str t)
{
	static const char root[] = "/";
	size_t skip;

	if (t.len >= 7 && strncasecmp(t.p, "http://", 7) == 0)
		skip = 7;
	else if (t.len >= 8 && strncasecmp(t.p, "https://", 8) == 0)
		skip = 8;
	else
		return t;
	for (size_t i = skip; i < t.len; i++) {
		if (t.p[i] == '/')
			return (struct http_str){ t.p + i, t.len - i };
		if (t.p[i] == '?')
			break;
	}
	return (struct http_str){ root, 1 };
}

long
http_decode_path(struct http_str target, char *out, size_t cap,
		 struct http_str *query)
{
	struct http_str t = strip_absolute_form(target);
	size_t n = 0, plen;
	const char *q;

	*query = (struct http_str){ "", 0 };
	if (t.len == 0 || t.p[0] != '/' || memchr(t.p, '#', t.len))
		return -400;
	q = memchr(t.p, '?', t.len);
	plen = q ? (size_t)(q - t.p) : t.len;
	if (q)
		*query = (struct http_str){ q, t.len - plen };
	for (size_t i = 0; i < plen; i++) {
		unsigned char c = (unsigned char)t.p[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= plen)
				return -400;
			hi = hex_value((unsigned char)t.p[i + 1]);
			lo = hex_value((unsigned char)t.p[i + 2]);
			if (hi < 0 || lo < 0)
				return -400;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			/* An encoded '/' would let a segment check be bypassed. */
			if (c == '/' || c < 0x20 || c == 0x7f)
				return -400;
		}
		if (c == '\\')
			return -400;	/* a separator on some file systems */
		if (n + 1 >= cap)
			return -414;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	/* ".", ".." and dot-files: traversal or things never meant to be served. */
	for (size_t i = 0; i < n; i++)
		if (out[i] == '/' && out[i + 1] == '.')
			return -403;
	return (long)n;
}

static const char day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char month_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void
http_format_date(time_t t, char out[30])
{
	struct tm tm;

	/* Not strftime: its names follow the locale, HTTP's do not. */
	gmtime_r(&t, &tm);
	/* The modulos only tell the compiler each field's width. */
	snprintf(out, 30, "%s, %02u %s %04u %02u:%02u:%02u GMT",
		 day_names[(unsigned)tm.tm_wday % 7], (unsigned)tm.tm_mday % 100,
		 month_names[(unsigned)tm.tm_mon % 12],
		 (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)tm.tm_hour % 100,
		 (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
}

static int
month_index(const char *m)
{
	for (int i = 0; i < 12; i++)
		if (strcmp(m, month_names[i]) == 0)
			return i;
	return -1;
}

int
http_parse_date(struct http_str s, time_t *t)
{
	char buf[64], mon[4] = "", tail[4] = "", wday[16] = "";
	struct tm tm = { 0 };
	int day, year, hh, mm, ss, consumed = 0, m;

	if (s.len == 0 || s.len >= sizeof(buf))
		return -1;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	if (sscanf(buf, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &day, mon,
		   &year, &hh, &mm, &ss, tail, &consumed) == 8 &&
	    consumed == (int)s.len && strcmp(tail, "GMT") == 0) {
		/* IMF-fixdate */
	} else if (sscanf(buf, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wday,
			  &day, mon, &year, &hh, &mm, &ss, tail, &consumed) == 8 &&
		   consumed == (int)s.len && strcmp(tail, "GMT") == 0) {
		/* RFC 850: a two-digit year; RFC 9110 says take the nearest century. */
		year += year < 70 ? 2000 : 1900;
	} else if (sscanf(buf, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &day,
			  &hh, &mm, &ss, &year, &consumed) == 7 &&
		   consumed == (int)s.len) {
		/* asctime */
	} else {
		return -1;
	}
	m = month_index(mon);
	if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 ||
	    year < 1970 || year > 9999 || hh < 0 || mm < 0 || ss < 0)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = m;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	*t = timegm(&tm);
	return 0;
}

/* Decimal digits p[*i..] into *out; -1 if none or on overflow. */
static int
parse_u64(const char *p, size_t n, size_t *i, uint64_t *out)
{
	size_t start = *i;
	uint64_t v = 0;

	while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
		unsigned d = (unsigned)(p[*i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		(*i)++;
	}
	*out = v;
	return *i > start ? 0 : -1;
}

enum http_range_result
http_parse_range(struct http_str s, uint64_t size, uint64_t *first,
		 uint64_t *last)
{
	uint64_t a, b;
	size_t i = 6;

	if (s.len < 7 || strncasecmp(s.p, "bytes=", 6) != 0 ||
	    memchr(s.p, ',', s.len))
		return HTTP_RANGE_NONE;
	if (s.p[i] == '-') {	/* the last b bytes */
		i++;
		if (parse_u64(s.p, s.len, &i, &b) < 0 || i != s.len)
			return HTTP_RANGE_NONE;
		if (b == 0 || size == 0)
			return HTTP_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return HTTP_RANGE_OK;
	}
	if (parse_u64(s.p, s.len, &i, &a) < 0 || i >= s.len || s.p[i] != '-')
		return HTTP_RANGE_NONE;
	i++;
	if (i == s.len) {
		b = UINT64_MAX;
	} else if (parse_u64(s.p, s.len, &i, &b) < 0 || i != s.len || b < a) {
		return HTTP_RANGE_NONE;
	}
	if (a >= size)
		return HTTP_RANGE_UNSATISFIABLE;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return HTTP_RANGE_OK;
}

static const struct {
	const char *ext, *type;
} media_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "avif", "image/avif" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "wasm", "application/wasm" },
	{ "pdf", "application/pdf" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "ttf", "font/ttf" },
	{ "otf", "font/otf" },
	{ "mp3", "audio/mpeg" },
	{ "ogg", "audio/ogg" },
	{ "wav", "audio/wav" },
	{ "mp4", "video/mp4" },
	{ "webm", "video/webm" },
	{ "zip", "application/zip" },
	{ "gz", "application/gzip" },
	{ "tar", "application/x-tar" },
};

const char *
http_content_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot && dot[1])
		for (size_t i = 0; i < sizeof(media_types) / sizeof(*media_types); i++)
			if (strcasecmp(dot + 1, media_types[i].ext) == 0)
				return media_types[i].type;
	return "application/octet-stream";
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
