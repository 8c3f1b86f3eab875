/*
 * The newc cpio parser under the initrd (cpio.c); cpio_unpack() in vfs.h
 * is what the kernel calls.  Pure: also built into the host unit tests.
 */
#ifndef TORO_CPIO_H
#define TORO_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio_entry {
	const char *name;		/* terminated, inside the archive */
	size_t namelen;
	uint32_t mode;			/* S_IFMT type and permission bits */
	uint32_t mtime;
	const uint8_t *data;		/* size bytes, inside the archive */
	size_t size;
};

/*
 * Parses the entry at *pos of buf[0, len) and moves *pos past it.
 * Returns 1 for an entry, 0 for the TRAILER!!! entry, or -EINVAL with a
 * reason in *why (truncated, bad magic, non-hex field, bad name).
 */
int cpio_next(const uint8_t *buf, size_t len, size_t *pos,
	      struct cpio_entry *e, const char **why);

#endif
