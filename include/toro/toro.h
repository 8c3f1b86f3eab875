/*
 * toro/toro.h - everything Toro adds to an ordinary C program.
 *
 * Applications are plain C against musl; this header is needed only for
 * what POSIX does not cover.  See toro(3) and toro(7).
 */
#ifndef TORO_TORO_H
#define TORO_TORO_H

#include <toro/blk.h>
#include <toro/channel.h>
#include <toro/dev.h>
#include <toro/heap.h>
#include <toro/net.h>
#include <toro/status.h>
#include <toro/thread.h>
#include <toro/version.h>

#endif
