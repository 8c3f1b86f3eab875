/*
 * A client connection as conn.c (its I/O and state) and response.c (what
 * is sent back) both see it.  Internal to the web server.
 */
#ifndef WEBSERVER_CONN_H
#define WEBSERVER_CONN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "server.h"

#define HDR_CAP		2048
#define CHUNK_SIZE	(64 * 1024)

enum conn_state { CONN_READ, CONN_WRITE, CONN_LINGER };

struct conn {
	struct conn *prev, *next;
	struct worker *w;
	int fd;
	enum conn_state state;
	uint32_t interest;
	int64_t last_ms;		/* last progress, either direction */
	int64_t req_start_ms;		/* first byte of the pending request, or 0 */
	char *in;
	size_t in_len, in_cap;
	uint64_t body_left;		/* request body still to be discarded */
	uint64_t linger_bytes;
	int close_after;
	/* The response being written: hdr, then body or the file's range. */
	char hdr[HDR_CAP];
	size_t hdr_len, hdr_off;
	const char *body;
	size_t body_len, body_off;
	struct cache_entry *entry;
	char *owned;
	int file_fd;			/* owned: a streamed file */
	int send_fd;			/* the body's file: file_fd or the entry's */
	uint64_t file_pos, file_end;
	char *chunk;
	size_t chunk_len, chunk_off;
	char peer[INET6_ADDRSTRLEN];
};

/* response.c */
/*
 * Sets up the response to a parsed request (head in c->hdr, body in
 * memory or a file range), counted and logged.
 */
void handle_request(struct conn *c, const struct http_request *req);
/* Sets up an error response; 400, 408, 413, 414, 431, 5xx close after it. */
void respond_error(struct conn *c, const struct http_request *req, int status);
/* Lets go of what the last response held (cache entry, file, buffer). */
void response_release(struct conn *c);

#endif
