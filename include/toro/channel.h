/*
 * toro/channel.h - messages between cores.
 *
 * Each ordered pair of cores has its own lock-free ring; a message sent to
 * a core is received by whichever thread on that core asks for it.  A
 * receiver with nothing to read sleeps and is woken by an inter-processor
 * interrupt when a message arrives.  See toro_channel(3).
 */
#ifndef TORO_CHANNEL_H
#define TORO_CHANNEL_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest message, in bytes. */
#define TORO_CHANNEL_MSG_MAX 16384
/* Flag: fail with EAGAIN instead of waiting. */
#define TORO_CHANNEL_NONBLOCK 1

/*
 * Sends len bytes (1 .. TORO_CHANNEL_MSG_MAX) to core dst, in order after
 * everything this core sent there before.  Waits while the ring to dst is
 * full.  Returns 0, or -1 with errno EINVAL (dst is not an online core,
 * len is 0, or an unknown flag), EMSGSIZE (len > TORO_CHANNEL_MSG_MAX),
 * EAGAIN (full, with TORO_CHANNEL_NONBLOCK) or ENOMEM (no memory for the
 * ring, made on this core's first message to dst).
 */
int toro_channel_send(int dst, const void *msg, size_t len, int flags);
/*
 * Receives the next message sent to this core by core src, or by any core
 * with src = TORO_CPU_ANY (-1); stores the sender's core in *from when from
 * is not NULL.  Waits while there is none.  Returns the message's length,
 * or -1 with errno EINVAL (src is neither an online core nor TORO_CPU_ANY,
 * cap is 0, or an unknown flag), EAGAIN (nothing, with
 * TORO_CHANNEL_NONBLOCK) or EMSGSIZE (the next message is longer than cap;
 * it stays queued, and *from says which core sent it).
 */
ssize_t toro_channel_recv(int src, int *from, void *buf, size_t cap,
			  int flags);

#ifdef __cplusplus
}
#endif

#endif
