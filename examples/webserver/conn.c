/*
 * The server loop: each worker thread runs one epoll loop over the shared
 * listening socket and the connections it accepted itself.  A connection
 * never changes workers, so its state is touched by one thread only and
 * needs no lock; the only shared things are the file cache, the count of
 * open connections (the limit) and the counters /stats reads.
 *
 * Every socket is non-blocking and registered level-triggered, with one
 * interest at a time: readable while a request is being read, writable
 * while a response is blocked on a full socket buffer.  While a response
 * is pending no more input is read, which is how a pipelining client is
 * slowed to the rate it reads at, and why pipelined responses come out in
 * order: requests are parsed one after the other from the input buffer
 * and each is answered completely before the next is looked at.
 *
 * Nothing here trusts the client: limits come from cfg, a request head
 * must arrive within header_timeout_s of its first byte (slowloris), an
 * idle keep-alive connection is closed after idle_timeout_s, a response
 * the client does not read is dropped after send_timeout_s, and the
 * connection count is bounded (503 beyond it).  A connection that ends
 * after an error response is shut down for writing first and drained for
 * a moment ("lingering close"), so the client reads the response instead
 * of a reset caused by the bytes we never read.
 */
#define _GNU_SOURCE
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#define IN_INITIAL	4096
#define LINGER_MS	2000
#define LINGER_BYTES	(256 * 1024)
#define ACCEPT_BATCH	16
#define EVENTS		64

int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
in_max(void)
{
	/* Room for the longest head the limits allow: the parser refuses
	 * anything longer before the buffer is full. */
	return cfg.limits.request_line_max + cfg.limits.header_bytes_max + 256;
}

static void
memory_add(int64_t delta)
{
	__atomic_add_fetch(&conn_memory, (uint64_t)delta, __ATOMIC_RELAXED);
}

static void
set_interest(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->interest == events)
		return;
	if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->interest = events;
}

static void
conn_close(struct conn *c)
{
	struct worker *w = c->w;

	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	response_release(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	memory_add(-(int64_t)(sizeof(*c) + c->in_cap + (c->chunk ? CHUNK_SIZE : 0)));
	free(c->in);
	free(c->chunk);
	free(c);
	__atomic_sub_fetch(&open_conns, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- I/O */

/* Cleared for good by a kernel without sendfile() for these descriptors. */
static int sendfile_works = 1;

/*
 * The next piece of the file's range with sendfile(): 1 when some went,
 * 0 when the socket is full, -1 when the connection is broken, 2 when
 * sendfile() cannot do it here (the caller falls back to pread).
 */
static int
send_file(struct conn *c)
{
	off_t off = (off_t)c->file_pos;
	uint64_t want = c->file_end - c->file_pos;
	ssize_t n;

	do
		n = sendfile(c->fd, c->send_fd, &off, want > (1u << 30) ? (1u << 30) : (size_t)want);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->file_pos = (uint64_t)off;
		STAT_ADD(c->w, bytes_sent, (uint64_t)n);
		c->last_ms = c->w->now_ms;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EINVAL)) {
		__atomic_store_n(&sendfile_works, 0, __ATOMIC_RELAXED);
		return 2;
	}
	/* Shorter than its head said: the connection cannot be saved. */
	return -1;
}

/* Writes what it can: 1 when the response is out, 0 when the socket is
 * full, -1 when the connection is broken. */
static int
conn_send(struct conn *c)
{
	for (;;) {
		struct iovec iov[2];
		int cnt = 0, r;
		ssize_t n;

		if (c->hdr_off < c->hdr_len)
			iov[cnt++] = (struct iovec){ c->hdr + c->hdr_off, c->hdr_len - c->hdr_off };
		if (c->body_off < c->body_len)
			iov[cnt++] = (struct iovec){ (char *)c->body + c->body_off,
						     c->body_len - c->body_off };
		bool file = c->file_pos < c->file_end;
		if (cnt == 0 && file && c->chunk_off == c->chunk_len && cfg.sendfile &&
		    __atomic_load_n(&sendfile_works, __ATOMIC_RELAXED)) {
			if ((r = send_file(c)) == 1)
				continue;
			if (r != 2)
				return r;
		}
		if (cnt == 0 && file) {
			if (c->chunk_off == c->chunk_len) {
				uint64_t want = c->file_end - c->file_pos;

				if (!c->chunk) {
					c->chunk = malloc(CHUNK_SIZE);
					if (!c->chunk)
						return -1;
					memory_add(CHUNK_SIZE);
				}
				n = pread(c->send_fd, c->chunk,
					  want < CHUNK_SIZE ? (size_t)want : CHUNK_SIZE,
					  (off_t)c->file_pos);
				if (n < 0 && errno == EINTR)
					continue;
				/* Shorter than its head said: the connection
				 * cannot be saved, the length is already out. */
				if (n <= 0)
					return -1;
				c->chunk_len = (size_t)n;
				c->chunk_off = 0;
			}
			iov[cnt++] = (struct iovec){ c->chunk + c->chunk_off,
						     c->chunk_len - c->chunk_off };
		}
		if (cnt == 0)
			return 1;
		/*
		 * A head alone with a file to follow: MSG_MORE, so that the
		 * file's first bytes share its segment instead of the head
		 * leaving alone (TCP_NODELAY is on).
		 */
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
		bool more = file && c->chunk_off == c->chunk_len && c->body_off == c->body_len;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		STAT_ADD(c->w, bytes_sent, (uint64_t)n);
		c->last_ms = c->w->now_ms;
		for (size_t left = (size_t)n; left;) {
			size_t step;

			if (c->hdr_off < c->hdr_len) {
				step = c->hdr_len - c->hdr_off < left ? c->hdr_len - c->hdr_off : left;
				c->hdr_off += step;
			} else if (c->body_off < c->body_len) {
				step = c->body_len - c->body_off < left ? c->body_len - c->body_off : left;
				c->body_off += step;
			} else {
				step = c->chunk_len - c->chunk_off < left ? c->chunk_len - c->chunk_off : left;
				c->chunk_off += step;
				c->file_pos += step;
			}
			left -= step;
		}
	}
}

static void
start_linger(struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_LINGER;
	c->last_ms = c->w->now_ms;
	c->in_len = 0;
	set_interest(c, EPOLLIN);
}

static void
consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

static int
grow_input(struct conn *c)
{
	size_t cap = c->in_cap * 2 < in_max() ? c->in_cap * 2 : in_max();
	char *p;

	if (cap <= c->in_cap || !(p = realloc(c->in, cap)))
		return -1;
	memory_add((int64_t)(cap - c->in_cap));
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/*
 * Answers the requests in the input buffer one by one until one is
 * incomplete or a response blocks.  Returns -1 when c was closed.
 */
static int
conn_process(struct conn *c)
{
	while (c->state == CONN_READ) {
		struct http_request req;
		long r;
		int rc;

		if (c->body_left) {
			size_t drop = c->body_left < c->in_len ? (size_t)c->body_left : c->in_len;

			consume(c, drop);
			c->body_left -= drop;
			if (c->body_left)
				break;
		}
		if (c->in_len == 0) {
			c->req_start_ms = 0;
			break;
		}
		if (!c->req_start_ms)
			c->req_start_ms = c->w->now_ms;
		r = http_parse_request(c->in, c->in_len, &cfg.limits, &req);
		if (r == 0) {
			if (c->in_len == c->in_cap && grow_input(c) < 0) {
				req.keep_alive = 0;
				respond_error(c, &req, 431);
			} else {
				break;
			}
		} else if (r < 0) {
			respond_error(c, &req, (int)-r);
		} else {
			handle_request(c, &req);
			consume(c, (size_t)r);
			c->body_left = req.content_length;
			c->req_start_ms = 0;
		}
		rc = conn_send(c);
		if (rc < 0) {
			conn_close(c);
			return -1;
		}
		if (rc == 0) {
			c->state = CONN_WRITE;
			set_interest(c, EPOLLOUT);
			return 0;
		}
		response_release(c);
		if (c->close_after) {
			start_linger(c);
			return 0;
		}
	}
	if (c->state == CONN_READ)
		set_interest(c, EPOLLIN);
	return 0;
}

static void
conn_linger_read(struct conn *c)
{
	char scratch[4096];
	ssize_t n = read(c->fd, scratch, sizeof(scratch));

	if (n > 0) {
		c->linger_bytes += (uint64_t)n;
		if (c->linger_bytes <= LINGER_BYTES)
			return;
	} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		return;
	}
	conn_close(c);
}

/* The response in progress can go on: finish it, then read on. */
static void
conn_writable(struct conn *c)
{
	int rc = conn_send(c);

	if (rc < 0) {
		conn_close(c);
	} else if (rc > 0) {
		response_release(c);
		if (c->close_after) {
			start_linger(c);
		} else {
			c->state = CONN_READ;
			conn_process(c);
		}
	}
}

static void
conn_readable(struct conn *c)
{
	ssize_t n;

	if (c->in_len == c->in_cap && grow_input(c) < 0) {
		conn_close(c);
		return;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {	/* the client is gone, or closed its side */
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	c->last_ms = c->w->now_ms;
	conn_process(c);
}

static void
conn_event(struct conn *c, uint32_t events)
{
	if (events & EPOLLERR)
		conn_close(c);
	else if (c->state == CONN_LINGER)
		conn_linger_read(c);
	else if (c->state == CONN_WRITE)
		conn_writable(c);
	else
		conn_readable(c);
}

/* ---------------------------------------------------------------- accept, timeouts, loop */

static const char busy_response[] =
	"HTTP/1.1 503 Service Unavailable\r\nServer: toro-webserver\r\n"
	"Content-Type: text/plain\r\nContent-Length: 20\r\nRetry-After: 1\r\n"
	"Connection: close\r\n\r\nToo many connections";

static void
refuse(struct worker *w, int fd)
{
	/* Best effort: a new socket's buffer is empty, so this fits. */
	if (send(fd, busy_response, sizeof(busy_response) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		STAT_ADD(w, bytes_sent, sizeof(busy_response) - 1);
	shutdown(fd, SHUT_WR);
	close(fd);
	STAT_ADD(w, refused, 1);
	STAT_ADD(w, status[status_slot(503)], 1);
	STAT_ADD(w, requests, 1);
	if (cfg.log) {
		struct http_request none = { 0 };

		log_request(w, "-", &none, 503, 20);
	}
}

/*
 * Out of descriptors or memory: the pending connection stays in the
 * backlog and the level-triggered listener would wake us again at once.
 * Stop listening for 100 ms instead of spinning; closing connections is
 * what frees descriptors.
 */
static void
pause_accepting(struct worker *w)
{
	if (w->accept_resume_ms)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	w->accept_resume_ms = w->now_ms + 100;
}

static void
resume_accepting(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, listen_fd, &ev) == 0)
		w->accept_resume_ms = 0;
	else
		w->accept_resume_ms = w->now_ms + 100;
}

static void
accept_batch(struct worker *w)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_in sa;
		socklen_t salen = sizeof(sa);
		int one = 1, fd;
		struct conn *c;
		struct epoll_event ev;

		fd = accept4(listen_fd, (struct sockaddr *)&sa, &salen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == ENOBUFS)
				pause_accepting(w);
			return;	/* EAGAIN: another worker took it */
		}
		STAT_ADD(w, accepted, 1);
		if (__atomic_add_fetch(&open_conns, 1, __ATOMIC_RELAXED) > cfg.max_conns) {
			__atomic_sub_fetch(&open_conns, 1, __ATOMIC_RELAXED);
			refuse(w, fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || !(c->in = malloc(IN_INITIAL))) {
			free(c);
			__atomic_sub_fetch(&open_conns, 1, __ATOMIC_RELAXED);
			refuse(w, fd);
			continue;
		}
		/* A response's last segment must not wait for the client's
		 * delayed ACK of the one before (Nagle). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->w = w;
		c->fd = fd;
		c->file_fd = c->send_fd = -1;
		c->in_cap = IN_INITIAL;
		c->last_ms = w->now_ms;
		c->interest = EPOLLIN;
		if (sa.sin_family != AF_INET ||
		    !inet_ntop(AF_INET, &sa.sin_addr, c->peer, sizeof(c->peer)))
			strcpy(c->peer, "-");
		ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c->in);
			free(c);
			__atomic_sub_fetch(&open_conns, 1, __ATOMIC_RELAXED);
			continue;
		}
		memory_add((int64_t)(sizeof(*c) + c->in_cap));
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
	}
}

static const char timeout_response[] =
	"HTTP/1.1 408 Request Timeout\r\nServer: toro-webserver\r\n"
	"Content-Length: 0\r\nConnection: close\r\n\r\n";

static void
sweep_timeouts(struct worker *w)
{
	int64_t now = w->now_ms;

	for (struct conn *c = w->conns, *next; c; c = next) {
		int64_t deadline;

		next = c->next;
		if (c->state == CONN_LINGER)
			deadline = c->last_ms + LINGER_MS;
		else if (c->state == CONN_WRITE)
			deadline = c->last_ms + cfg.send_timeout_s * 1000;
		else if (c->req_start_ms)
			deadline = c->req_start_ms + cfg.header_timeout_s * 1000;
		else if (c->body_left)
			deadline = c->last_ms + cfg.header_timeout_s * 1000;
		else
			deadline = c->last_ms + cfg.idle_timeout_s * 1000;
		if (now < deadline)
			continue;
		STAT_ADD(w, timed_out, 1);
		if (c->state == CONN_READ && c->req_start_ms) {
			/* RFC 9110 15.5.9: say so before closing on a partial request. */
			send(c->fd, timeout_response, sizeof(timeout_response) - 1,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
			STAT_ADD(w, status[status_slot(408)], 1);
		}
		conn_close(c);
	}
	w->last_sweep_ms = now;
}

static void
update_clock(struct worker *w)
{
	time_t now = time(NULL);

	w->now_ms = monotonic_ms();
	if (now != w->now_s) {
		struct tm tm;

		w->now_s = now;
		http_format_date(now, w->date);
		gmtime_r(&now, &tm);
		strftime(w->log_date, sizeof(w->log_date), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	}
}

int
worker_setup(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -1;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		return -1;
	update_clock(w);
	w->last_sweep_ms = w->now_ms;
	return 0;
}

void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[EVENTS];

	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			log_line("webserver: worker %d: cannot pin to cpu %d", w->index, w->cpu);
	}
	while (!stopping) {
		int n = epoll_wait(w->epfd, ev, EVENTS, w->accept_resume_ms ? 100 : 1000);

		update_clock(w);
		if (w->accept_resume_ms && w->now_ms >= w->accept_resume_ms)
			resume_accepting(w);
		for (int i = 0; i < n; i++) {
			if (!ev[i].data.ptr)
				accept_batch(w);
			else
				conn_event(ev[i].data.ptr, ev[i].events);
		}
		if (w->now_ms - w->last_sweep_ms >= 500)
			sweep_timeouts(w);
		log_flush(w);
	}
	while (w->conns)
		conn_close(w->conns);
	log_flush(w);
	return NULL;
}
