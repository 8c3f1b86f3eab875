/*
 * FUSE messages (protocol 7.31, what QEMU's virtiofsd speaks): the wire
 * structures, building a request as a list of segments (header, arguments,
 * then the buffers the server writes its reply into) and checking every
 * reply before anyone believes it.  Pure: no device, no memory allocation,
 * no VFS, so that it compiles and is fuzzed on the host.  The transport
 * (drivers/virtio/virtio-fs.c) turns segments into descriptors.
 */
#ifndef TORO_FUSE_H
#define TORO_FUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FUSE_KERNEL_VERSION		7
#define FUSE_KERNEL_MINOR_VERSION	31
#define FUSE_ROOT_ID			1
#define FUSE_SUPER_MAGIC		0x65735546

enum fuse_opcode {
	FUSE_LOOKUP = 1,
	FUSE_FORGET = 2,
	FUSE_GETATTR = 3,
	FUSE_SETATTR = 4,
	FUSE_READLINK = 5,
	FUSE_SYMLINK = 6,
	FUSE_MKDIR = 9,
	FUSE_UNLINK = 10,
	FUSE_RMDIR = 11,
	FUSE_RENAME = 12,
	FUSE_OPEN = 14,
	FUSE_READ = 15,
	FUSE_WRITE = 16,
	FUSE_STATFS = 17,
	FUSE_RELEASE = 18,
	FUSE_FSYNC = 20,
	FUSE_FLUSH = 25,
	FUSE_INIT = 26,
	FUSE_OPENDIR = 27,
	FUSE_READDIR = 28,
	FUSE_RELEASEDIR = 29,
	FUSE_CREATE = 35,
	FUSE_DESTROY = 38,
	FUSE_READDIRPLUS = 44,
};

/* fuse_setattr_in.valid */
#define FATTR_MODE	(1u << 0)
#define FATTR_SIZE	(1u << 3)
#define FATTR_ATIME	(1u << 4)
#define FATTR_MTIME	(1u << 5)
#define FATTR_FH	(1u << 6)

/* fuse_init_in/out.flags */
#define FUSE_BIG_WRITES	(1u << 5)
#define FUSE_MAX_PAGES	(1u << 22)

struct fuse_in_header {
	uint32_t len, opcode;
	uint64_t unique, nodeid;
	uint32_t uid, gid, pid, padding;
};

struct fuse_out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};

struct fuse_attr {
	uint64_t ino, size, blocks, atime, mtime, ctime;
	uint32_t atimensec, mtimensec, ctimensec, mode, nlink, uid, gid, rdev;
	uint32_t blksize, padding;
};

struct fuse_entry_out {
	uint64_t nodeid, generation, entry_valid, attr_valid;
	uint32_t entry_valid_nsec, attr_valid_nsec;
	struct fuse_attr attr;
};

struct fuse_attr_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec, dummy;
	struct fuse_attr attr;
};

struct fuse_init_in {
	uint32_t major, minor, max_readahead, flags;
};

struct fuse_init_out {
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t unused[8];
};

struct fuse_forget_in { uint64_t nlookup; };
struct fuse_getattr_in { uint32_t getattr_flags, dummy; uint64_t fh; };
struct fuse_mkdir_in { uint32_t mode, umask; };
struct fuse_rename_in { uint64_t newdir; };
struct fuse_open_in { uint32_t flags, unused; };
struct fuse_create_in { uint32_t flags, mode, umask, padding; };
struct fuse_open_out { uint64_t fh; uint32_t open_flags, padding; };
struct fuse_release_in { uint64_t fh; uint32_t flags, release_flags; uint64_t lock_owner; };
struct fuse_flush_in { uint64_t fh; uint32_t unused, padding; uint64_t lock_owner; };
struct fuse_fsync_in { uint64_t fh; uint32_t fsync_flags, padding; };
struct fuse_write_out { uint32_t size, padding; };

struct fuse_setattr_in {
	uint32_t valid, padding;
	uint64_t fh, size, lock_owner, atime, mtime, ctime;
	uint32_t atimensec, mtimensec, ctimensec, mode, unused4, uid, gid, unused5;
};

/* READ and WRITE share a layout. */
struct fuse_io_in {
	uint64_t fh, offset;
	uint32_t size, io_flags;
	uint64_t lock_owner;
	uint32_t flags, padding;
};

struct fuse_kstatfs {
	uint64_t blocks, bfree, bavail, files, ffree;
	uint32_t bsize, namelen, frsize, padding;
	uint32_t spare[6];
};

struct fuse_create_out {
	struct fuse_entry_out entry;
	struct fuse_open_out open;
};

struct fuse_dirent {
	uint64_t ino, off;
	uint32_t namelen, type;
	char name[];
};

#define FUSE_DIRENT_ALIGN(x)	(((x) + 7) & ~(size_t)7)
#define FUSE_NAME_MAX		255

/* One piece of a request, in the order the device sees them. */
struct fuse_seg {
	const void *base;
	uint32_t len;
	bool device_writes;
};

#define FUSE_ARGS_MAX	6
#define FUSE_SEGS_MAX	(1 + FUSE_ARGS_MAX + 3)

/*
 * A request and the buffers for its reply: the fixed reply structure
 * (reply) and variable data after it (data: READ's bytes, READDIR's
 * records), either may be absent.
 */
struct fuse_call {
	struct fuse_in_header in;
	const void *arg[FUSE_ARGS_MAX];
	uint32_t arg_len[FUSE_ARGS_MAX];
	unsigned nargs;
	struct fuse_out_header out;
	void *reply;
	uint32_t reply_len;
	void *data;
	uint32_t data_len;
	bool no_reply;			/* FORGET */
};

void fuse_call_init(struct fuse_call *c, uint32_t opcode, uint64_t nodeid,
		    uint64_t unique);
/* Appends an argument; false when there are FUSE_ARGS_MAX already. */
bool fuse_call_arg(struct fuse_call *c, const void *p, uint32_t len);
/* A name argument: (name, len) and its terminating NUL, as two pieces. */
bool fuse_call_name(struct fuse_call *c, const char *name, size_t len);
/*
 * The segments (at most FUSE_SEGS_MAX) and their number; sets in.len.
 * Empty pieces are left out.
 */
unsigned fuse_call_segs(struct fuse_call *c, struct fuse_seg *seg);
/*
 * Checks the reply after the device said it wrote `written` bytes: the
 * header's length equals written, which fits the buffers; the unique id
 * matches; an error is a negative errno (-1..-4095) with nothing after
 * the header; a success carries at least the size the opcode needs.
 * Returns the reply's length after the header, the server's error, or
 * -EIO for anything malformed.
 */
long fuse_call_check(const struct fuse_call *c, uint32_t written);
/* The smallest and largest successful reply (after the header) per opcode. */
void fuse_reply_bounds(uint32_t opcode, uint32_t *min, uint32_t *max);

/* A node the server named: nodeid non-zero, a known file type.  -EIO. */
int fuse_entry_check(const struct fuse_entry_out *e);
int fuse_attr_check(const struct fuse_attr *a);
void fuse_attr_to_stat(const struct fuse_attr *a, struct stat *st);

/* What the session may do, from INIT's reply. */
struct fuse_session_params {
	uint32_t minor;
	uint32_t max_write;		/* bytes per WRITE */
	uint32_t max_read;		/* bytes per READ */
};
/* len: the reply's length after the header.  0 or -EIO (or -EPROTO). */
int fuse_init_check(const struct fuse_init_out *o, uint32_t len,
		    struct fuse_session_params *p);

struct fuse_dirent_view {
	uint64_t ino, off;
	uint32_t type;			/* DT_* */
	uint32_t namelen;
	const char *name;		/* not terminated */
	const struct fuse_entry_out *entry;	/* READDIRPLUS only */
};
/*
 * The record at *pos in a READDIR (plus: READDIRPLUS) reply of len
 * bytes: 1 and *pos moved past it, 0 at the end, -EIO for a record that
 * runs past the end, a name of 0 or more than 255 bytes or with '/' or
 * NUL in it, or a misaligned record.
 */
int fuse_dirent_next(const void *buf, size_t len, size_t *pos, bool plus,
		     struct fuse_dirent_view *v);

#endif
