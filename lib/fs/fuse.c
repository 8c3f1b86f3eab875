/*
 * FUSE request building and reply checking (see fuse.h).  The server is
 * outside the guest and trusted with the data, not with our memory: every
 * length and name it sends is checked here before the client acts on it,
 * and anything malformed is -EIO.  Not a transport and not a file system:
 * drivers/virtio/virtio-fs.c does both.
 */
#include "lib/fs/fuse.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");
_Static_assert(sizeof(struct fuse_attr) == 88, "fuse_attr");
_Static_assert(sizeof(struct fuse_entry_out) == 128, "fuse_entry_out");
_Static_assert(sizeof(struct fuse_attr_out) == 104, "fuse_attr_out");
_Static_assert(sizeof(struct fuse_init_out) == 64, "fuse_init_out");
_Static_assert(sizeof(struct fuse_setattr_in) == 88, "fuse_setattr_in");
_Static_assert(sizeof(struct fuse_io_in) == 40, "fuse_read_in");
_Static_assert(sizeof(struct fuse_kstatfs) == 80, "fuse_kstatfs");
_Static_assert(sizeof(struct fuse_dirent) == 24, "fuse_dirent");
_Static_assert(sizeof(struct fuse_create_out) == 144, "create reply");

/* The oldest INIT reply we accept (FUSE_COMPAT_22_INIT_OUT_SIZE). */
#define INIT_OUT_MIN	24
#define IO_DEFAULT	(128u << 10)	/* 32 pages, the pre-MAX_PAGES limit */
#define IO_MAX		(1u << 20)

void
fuse_call_init(struct fuse_call *c, uint32_t opcode, uint64_t nodeid,
	       uint64_t unique)
{
	memset(c, 0, sizeof(*c));
	c->in.opcode = opcode;
	c->in.nodeid = nodeid;
	c->in.unique = unique;
	c->no_reply = opcode == FUSE_FORGET;
}

bool
fuse_call_arg(struct fuse_call *c, const void *p, uint32_t len)
{
	if (c->nargs == FUSE_ARGS_MAX)
		return false;
	c->arg[c->nargs] = p;
	c->arg_len[c->nargs++] = len;
	return true;
}

bool
fuse_call_name(struct fuse_call *c, const char *name, size_t len)
{
	static const char nul;

	if (len > FUSE_NAME_MAX || c->nargs + 2 > FUSE_ARGS_MAX)
		return false;
	fuse_call_arg(c, name, (uint32_t)len);
	return fuse_call_arg(c, &nul, 1);
}

unsigned
fuse_call_segs(struct fuse_call *c, struct fuse_seg *seg)
{
	unsigned n = 0;
	uint32_t len = sizeof(c->in);

	seg[n++] = (struct fuse_seg){ &c->in, sizeof(c->in), false };
	for (unsigned i = 0; i < c->nargs; i++) {
		if (!c->arg_len[i])
			continue;
		seg[n++] = (struct fuse_seg){ c->arg[i], c->arg_len[i], false };
		len += c->arg_len[i];
	}
	c->in.len = len;
	if (c->no_reply)
		return n;
	seg[n++] = (struct fuse_seg){ &c->out, sizeof(c->out), true };
	if (c->reply && c->reply_len)
		seg[n++] = (struct fuse_seg){ c->reply, c->reply_len, true };
	if (c->data && c->data_len)
		seg[n++] = (struct fuse_seg){ c->data, c->data_len, true };
	return n;
}

void
fuse_reply_bounds(uint32_t opcode, uint32_t *min, uint32_t *max)
{
	uint32_t fixed;

	switch (opcode) {
	case FUSE_LOOKUP:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
		fixed = sizeof(struct fuse_entry_out);
		break;
	case FUSE_GETATTR:
	case FUSE_SETATTR:
		fixed = sizeof(struct fuse_attr_out);
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		fixed = sizeof(struct fuse_open_out);
		break;
	case FUSE_CREATE:
		fixed = sizeof(struct fuse_create_out);
		break;
	case FUSE_WRITE:
		fixed = sizeof(struct fuse_write_out);
		break;
	case FUSE_STATFS:
		fixed = sizeof(struct fuse_kstatfs);
		break;
	case FUSE_INIT:
		*min = INIT_OUT_MIN;
		*max = sizeof(struct fuse_init_out);
		return;
	case FUSE_READ:
	case FUSE_READLINK:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		*min = 0;
		*max = UINT32_MAX;	/* bounded by the buffer */
		return;
	default:			/* nothing but the header */
		fixed = 0;
		break;
	}
	*min = *max = fixed;
}

long
fuse_call_check(const struct fuse_call *c, uint32_t written)
{
	const struct fuse_out_header *o = &c->out;
	uint64_t room = sizeof(*o) + (uint64_t)(c->reply ? c->reply_len : 0) +
			(c->data ? c->data_len : 0);
	uint32_t min, max;

	if (c->no_reply)
		return 0;
	if (written < sizeof(*o) || written > room || o->len != written ||
	    o->unique != c->in.unique)
		return -EIO;
	if (o->error)
		return o->error < 0 && o->error >= -4095 && written == sizeof(*o)
			       ? o->error : -EIO;
	uint32_t got = written - (uint32_t)sizeof(*o);
	fuse_reply_bounds(c->in.opcode, &min, &max);
	if (got < min || got > max)
		return -EIO;
	return got;
}

int
fuse_attr_check(const struct fuse_attr *a)
{
	switch (a->mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		return -EIO;
	}
	if (a->size > INT64_MAX || a->atimensec >= 1000000000u ||
	    a->mtimensec >= 1000000000u || a->ctimensec >= 1000000000u)
		return -EIO;
	return 0;
}

int
fuse_entry_check(const struct fuse_entry_out *e)
{
	return e->nodeid ? fuse_attr_check(&e->attr) : -EIO;
}

void
fuse_attr_to_stat(const struct fuse_attr *a, struct stat *st)
{
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)(a->blocks > INT64_MAX ? INT64_MAX : a->blocks);
	st->st_blksize = a->blksize ? a->blksize : 4096;
	st->st_atim.tv_sec = (time_t)a->atime;
	st->st_atim.tv_nsec = a->atimensec;
	st->st_mtim.tv_sec = (time_t)a->mtime;
	st->st_mtim.tv_nsec = a->mtimensec;
	st->st_ctim.tv_sec = (time_t)a->ctime;
	st->st_ctim.tv_nsec = a->ctimensec;
}

int
fuse_init_check(const struct fuse_init_out *o, uint32_t len,
		struct fuse_session_params *p)
{
	if (len < INIT_OUT_MIN || len > sizeof(*o))
		return -EIO;
	/* The server answers a newer major with its own for us to retry:
	 * there is nothing older we speak. */
	if (o->major != FUSE_KERNEL_VERSION)
		return -EPROTO;
	p->minor = o->minor < FUSE_KERNEL_MINOR_VERSION ? o->minor
							 : FUSE_KERNEL_MINOR_VERSION;
	if (p->minor < 22)	/* our entry/attr/init layouts */
		return -EPROTO;
	uint32_t io = IO_DEFAULT;
	if (len >= offsetof(struct fuse_init_out, map_alignment) &&
	    (o->flags & FUSE_MAX_PAGES) && o->max_pages)
		io = (uint32_t)o->max_pages * 4096u;
	if (io > IO_MAX)
		io = IO_MAX;
	p->max_read = io;
	p->max_write = o->max_write < 4096 ? 4096 : o->max_write;
	if (p->max_write > io)
		p->max_write = io;
	return 0;
}

static uint32_t
dirent_type(uint32_t t)
{
	switch (t) {
	case DT_REG: case DT_DIR: case DT_LNK: case DT_CHR:
	case DT_BLK: case DT_FIFO: case DT_SOCK:
		return t;
	default:
		return DT_UNKNOWN;
	}
}

int
fuse_dirent_next(const void *buf, size_t len, size_t *pos, bool plus,
		 struct fuse_dirent_view *v)
{
	const unsigned char *b = buf;
	size_t head = plus ? sizeof(struct fuse_entry_out) : 0;
	size_t at = *pos;
	struct fuse_dirent d;

	if (at >= len)
		return 0;
	if (at & 7 || len - at < head + sizeof(d))
		return -EIO;
	memcpy(&d, b + at + head, sizeof(d));
	if (!d.namelen || d.namelen > FUSE_NAME_MAX)
		return -EIO;
	size_t rec = head + FUSE_DIRENT_ALIGN(sizeof(d) + d.namelen);
	if (rec > len - at)
		return -EIO;
	const char *name = (const char *)b + at + head + sizeof(d);
	if (memchr(name, '/', d.namelen) || memchr(name, 0, d.namelen))
		return -EIO;
	v->ino = d.ino;
	v->off = d.off;
	v->type = dirent_type(d.type);
	v->namelen = d.namelen;
	v->name = name;
	v->entry = plus ? (const struct fuse_entry_out *)(b + at) : NULL;
	*pos = at + rec;
	return 1;
}
