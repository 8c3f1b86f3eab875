/*
 * libFuzzer target for the FUSE reply checks (lib/fs/fuse.c): the input's
 * first byte picks a request (LOOKUP, GETATTR, READ, INIT, CREATE,
 * READDIR or READDIRPLUS), the next four are the byte count the "device"
 * claims it wrote, and the rest is the reply it wrote.  Everything the
 * checks accept is then used the way the driver uses it (entries,
 * attributes, INIT parameters, a full directory walk).  Crashes, sanitizer
 * reports and walks that do not move forward are bugs.  Built and run by
 * `make fuzz-fuse` in tests/unit; seeds in tests/unit/fuse-corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs/fuse.h"

static const uint32_t opcodes[] = {
	FUSE_LOOKUP, FUSE_GETATTR, FUSE_READ, FUSE_INIT, FUSE_CREATE,
	FUSE_READDIR, FUSE_READDIRPLUS, FUSE_WRITE,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char reply[256] __attribute__((aligned(8)));
	static unsigned char buf[4096] __attribute__((aligned(8)));
	struct fuse_call c;
	struct fuse_seg seg[FUSE_SEGS_MAX];
	uint32_t written;

	if (size < 5)
		return 0;
	uint32_t op = opcodes[data[0] % (sizeof(opcodes) / sizeof(opcodes[0]))];
	memcpy(&written, data + 1, 4);
	data += 5;
	size -= 5;

	fuse_call_init(&c, op, 2, 1234);
	uint32_t min, max;
	fuse_reply_bounds(op, &min, &max);
	if (max && max <= sizeof(reply)) {
		c.reply = reply;
		c.reply_len = max;
	}
	if (op == FUSE_READ || op == FUSE_READDIR || op == FUSE_READDIRPLUS) {
		c.data = buf;
		c.data_len = sizeof(buf);
	}
	unsigned n = fuse_call_segs(&c, seg);
	/* The device scatters the input over the writable segments. */
	size_t done = 0;
	for (unsigned i = 0; i < n && done < size; i++) {
		if (!seg[i].device_writes)
			continue;
		size_t k = size - done < seg[i].len ? size - done : seg[i].len;
		memcpy((void *)seg[i].base, data + done, k);
		done += k;
	}
	long got = fuse_call_check(&c, written);
	if (got < 0)
		return 0;
	if ((uint64_t)got + 16 != written)
		abort();
	struct stat st;
	struct fuse_session_params p;
	switch (op) {
	case FUSE_LOOKUP:
	case FUSE_CREATE:
		if (!fuse_entry_check((struct fuse_entry_out *)reply))
			fuse_attr_to_stat(&((struct fuse_entry_out *)reply)->attr, &st);
		break;
	case FUSE_GETATTR:
		if (!fuse_attr_check(&((struct fuse_attr_out *)reply)->attr))
			fuse_attr_to_stat(&((struct fuse_attr_out *)reply)->attr, &st);
		break;
	case FUSE_INIT:
		if (!fuse_init_check((struct fuse_init_out *)reply, (uint32_t)got, &p) &&
		    (p.max_write > p.max_read || p.max_write < 4096))
			abort();
		break;
	case FUSE_READDIR:
	case FUSE_READDIRPLUS: {
		size_t pos = 0, last = 0;
		struct fuse_dirent_view v;
		while (fuse_dirent_next(buf, (size_t)got, &pos, op == FUSE_READDIRPLUS, &v) == 1) {
			if (pos <= last || pos > (size_t)got || !v.namelen || v.namelen > 255)
				abort();
			last = pos;
		}
		break;
	}
	default:
		break;
	}
	return 0;
}
