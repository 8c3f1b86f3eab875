/*
 * The FUSE message layer (lib/fs/fuse.c) on the host: requests become the
 * segments the virtio-fs driver hands the device, a fake device scatters
 * replies into the writable ones, and every check fuse_call_check(),
 * fuse_init_check(), fuse_entry_check() and fuse_dirent_next() makes is
 * exercised with good replies and with each kind of damage; then a loop
 * of random corruptions (under the -san build, any out-of-bounds access
 * is fatal) must never yield a length past the buffers or a directory
 * walk that does not end.  Not a test of the driver or of virtiofsd
 * (tests/guest/virtiofs.test does that).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs/fuse.h"
#include "tap.h"

/* The device: copies reply (out header included) into the writable
 * segments in order; returns the bytes it wrote. */
static uint32_t
device_reply(const struct fuse_seg *seg, unsigned n, const void *reply, size_t len)
{
	const unsigned char *p = reply;
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (!seg[i].device_writes)
			continue;
		size_t k = len - done < seg[i].len ? len - done : seg[i].len;
		memcpy((void *)seg[i].base, p + done, k);
		done += k;
	}
	return (uint32_t)done;
}

/* A reply message: header (len = 16 + plen unless forced) then payload. */
static size_t
make_reply(unsigned char *buf, uint64_t unique, int32_t error, const void *payload,
	   size_t plen)
{
	struct fuse_out_header h = { (uint32_t)(sizeof(h) + plen), error, unique };

	memcpy(buf, &h, sizeof(h));
	if (plen)
		memcpy(buf + sizeof(h), payload, plen);
	return sizeof(h) + plen;
}

static struct fuse_entry_out
good_entry(void)
{
	struct fuse_entry_out e = { .nodeid = 42, .generation = 1 };

	e.attr.ino = 1234;
	e.attr.mode = S_IFREG | 0644;
	e.attr.size = 5000;
	e.attr.nlink = 1;
	e.attr.mtime = 1700000000;
	e.attr.mtimensec = 5;
	return e;
}

/* A LOOKUP of "name" with its reply buffer, ready to send. */
static unsigned
lookup_call(struct fuse_call *c, struct fuse_entry_out *e, struct fuse_seg *seg)
{
	fuse_call_init(c, FUSE_LOOKUP, 7, 99);
	fuse_call_name(c, "name", 4);
	c->reply = e;
	c->reply_len = sizeof(*e);
	return fuse_call_segs(c, seg);
}

static void
test_segments(void)
{
	struct fuse_call c;
	struct fuse_seg seg[FUSE_SEGS_MAX];
	struct fuse_entry_out e;
	unsigned n = lookup_call(&c, &e, seg);

	is_int(n, 5, "LOOKUP: header, name, NUL, out header, reply");
	is_int(c.in.len, 40 + 4 + 1, "in.len counts the header and the name with its NUL");
	ok(!seg[0].device_writes && !seg[1].device_writes && !seg[2].device_writes &&
	   seg[3].device_writes && seg[4].device_writes,
	   "device-readable segments first, then writable ones");
	ok(seg[2].len == 1 && *(const char *)seg[2].base == 0, "the NUL is a segment of its own");
	is_int(c.in.opcode, FUSE_LOOKUP, "opcode");
	is_int(c.in.nodeid, 7, "nodeid");

	struct fuse_forget_in f = { 3 };
	fuse_call_init(&c, FUSE_FORGET, 9, 5);
	fuse_call_arg(&c, &f, sizeof(f));
	n = fuse_call_segs(&c, seg);
	ok(n == 2 && !seg[1].device_writes, "FORGET: no reply buffers at all");
	is_int(fuse_call_check(&c, 0), 0, "FORGET: nothing to check");

	char big[300];
	memset(big, 'a', sizeof(big));
	fuse_call_init(&c, FUSE_LOOKUP, 1, 1);
	ok(!fuse_call_name(&c, big, 256), "a name of 256 bytes is refused");
	ok(fuse_call_name(&c, big, 255), "255 bytes is fine");
	for (int i = 0; i < 10; i++)
		fuse_call_arg(&c, big, 1);
	is_int(c.nargs, FUSE_ARGS_MAX, "at most FUSE_ARGS_MAX arguments");

	/* WRITE: the caller's data is a segment of its own (no copy). */
	struct fuse_io_in io = { .size = 300 };
	struct fuse_write_out wo;
	fuse_call_init(&c, FUSE_WRITE, 5, 2);
	fuse_call_arg(&c, &io, sizeof(io));
	fuse_call_arg(&c, big, sizeof(big));
	c.reply = &wo;
	c.reply_len = sizeof(wo);
	n = fuse_call_segs(&c, seg);
	ok(n == 5 && seg[2].base == big && seg[2].len == 300, "WRITE data straight from the caller");
	is_int(c.in.len, 40 + 40 + 300, "WRITE in.len");
}

static void
test_check(void)
{
	struct fuse_call c;
	struct fuse_seg seg[FUSE_SEGS_MAX];
	struct fuse_entry_out e, good = good_entry();
	unsigned char msg[512];
	unsigned n = lookup_call(&c, &e, seg);
	size_t len = make_reply(msg, 99, 0, &good, sizeof(good));
	uint32_t w = device_reply(seg, n, msg, len);

	is_int(fuse_call_check(&c, w), 128, "a good LOOKUP reply: 128 bytes");
	ok(e.nodeid == 42 && !fuse_entry_check(&e), "its entry checks out");
	is_int(fuse_call_check(&c, w - 1), -EIO, "written one byte short of out.len: EIO");

	len = make_reply(msg, 99, -ENOENT, NULL, 0);
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), -ENOENT, "an error reply: the server's errno");
	len = make_reply(msg, 99, -ENOENT, &good, 8);
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), -EIO, "an error with a payload: EIO");
	len = make_reply(msg, 99, 5, NULL, 0);
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), -EIO, "a positive error: EIO");
	len = make_reply(msg, 99, -5000, NULL, 0);
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), -EIO, "an error below -4095: EIO");

	len = make_reply(msg, 98, 0, &good, sizeof(good));
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), -EIO, "another request's unique: EIO");
	len = make_reply(msg, 99, 0, &good, 100);
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), -EIO, "a short entry (100 bytes): EIO");
	is_int(fuse_call_check(&c, 8), -EIO, "less than a header: EIO");
	len = make_reply(msg, 99, 0, &good, sizeof(good));
	((struct fuse_out_header *)msg)->len = 200;
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), -EIO, "out.len says more than was written: EIO");
	is_int(fuse_call_check(&c, 16 + 128 + 1), -EIO, "written past the buffers: EIO");

	/* READ: any length up to the buffer. */
	static char data[4096];
	struct fuse_io_in io = { .size = sizeof(data) };
	fuse_call_init(&c, FUSE_READ, 3, 7);
	fuse_call_arg(&c, &io, sizeof(io));
	c.data = data;
	c.data_len = sizeof(data);
	n = fuse_call_segs(&c, seg);
	memset(msg + 16, 'z', 300);
	len = make_reply(msg, 7, 0, msg + 16, 300);
	w = device_reply(seg, n, msg, len);
	ok(fuse_call_check(&c, w) == 300 && data[0] == 'z' && data[299] == 'z',
	   "READ: 300 bytes land in the caller's buffer");
	len = make_reply(msg, 7, 0, NULL, 0);
	w = device_reply(seg, n, msg, len);
	is_int(fuse_call_check(&c, w), 0, "READ at the end: 0 bytes");

	uint32_t min, max;
	fuse_reply_bounds(FUSE_CREATE, &min, &max);
	ok(min == 144 && max == 144, "CREATE wants an entry and an open reply");
	fuse_reply_bounds(FUSE_UNLINK, &min, &max);
	ok(min == 0 && max == 0, "UNLINK wants the header only");
	fuse_reply_bounds(FUSE_STATFS, &min, &max);
	ok(min == 80 && max == 80, "STATFS wants a kstatfs");
}

static void
test_entry_attr(void)
{
	struct fuse_entry_out e = good_entry();
	struct stat st;

	memset(&st, 0, sizeof(st));
	fuse_attr_to_stat(&e.attr, &st);
	ok(st.st_ino == 1234 && st.st_size == 5000 && S_ISREG(st.st_mode) &&
	   st.st_mtim.tv_sec == 1700000000 && st.st_mtim.tv_nsec == 5,
	   "attributes become a struct stat");
	e.nodeid = 0;
	is_int(fuse_entry_check(&e), -EIO, "nodeid 0 in an entry: EIO");
	e = good_entry();
	e.attr.mode = 0644;
	is_int(fuse_entry_check(&e), -EIO, "no file type: EIO");
	e = good_entry();
	e.attr.mode = 0170000 | 0644;
	is_int(fuse_entry_check(&e), -EIO, "an unknown file type: EIO");
	e = good_entry();
	e.attr.size = (uint64_t)1 << 63;
	is_int(fuse_entry_check(&e), -EIO, "a size past INT64_MAX: EIO");
	e = good_entry();
	e.attr.mtimensec = 1000000000;
	is_int(fuse_entry_check(&e), -EIO, "nanoseconds of a second or more: EIO");
}

static void
test_init(void)
{
	struct fuse_init_out o = { .major = 7, .minor = 31, .max_write = 1 << 20,
				   .flags = FUSE_MAX_PAGES, .max_pages = 256 };
	struct fuse_session_params p;

	is_int(fuse_init_check(&o, sizeof(o), &p), 0, "INIT 7.31 accepted");
	ok(p.max_read == 1 << 20 && p.max_write == 1 << 20 && p.minor == 31,
	   "256 pages: 1 MiB reads and writes (%u, %u)", p.max_read, p.max_write);
	o.flags = 0;
	fuse_init_check(&o, sizeof(o), &p);
	ok(p.max_read == 128 << 10 && p.max_write == 128 << 10,
	   "without MAX_PAGES: 128 KiB (%u, %u)", p.max_read, p.max_write);
	o.max_write = 0;
	fuse_init_check(&o, sizeof(o), &p);
	is_int(p.max_write, 4096, "max_write 0 becomes a page");
	o.minor = 40;
	fuse_init_check(&o, sizeof(o), &p);
	is_int(p.minor, 31, "a newer server: we speak 7.31");
	is_int(fuse_init_check(&o, 24, &p), 0, "a 7.22-sized reply (24 bytes) is enough");
	is_int(fuse_init_check(&o, 8, &p), -EIO, "8 bytes: EIO");
	is_int(fuse_init_check(&o, 65, &p), -EIO, "more than the structure: EIO");
	o.major = 8;
	is_int(fuse_init_check(&o, sizeof(o), &p), -EPROTO, "major 8: EPROTO");
	o.major = 7;
	o.minor = 12;
	is_int(fuse_init_check(&o, sizeof(o), &p), -EPROTO, "minor 12: EPROTO");
}

/* Appends one READDIR (plus: READDIRPLUS) record; returns the new length. */
static size_t
add_dirent(unsigned char *buf, size_t at, bool plus, uint64_t ino, uint64_t off,
	   uint32_t type, const char *name)
{
	struct fuse_dirent d = { ino, off, (uint32_t)strlen(name), type };
	size_t head = plus ? sizeof(struct fuse_entry_out) : 0;

	if (plus) {
		struct fuse_entry_out e = good_entry();
		e.nodeid = ino;
		memcpy(buf + at, &e, sizeof(e));
	}
	memcpy(buf + at + head, &d, sizeof(d));
	memcpy(buf + at + head + sizeof(d), name, d.namelen);
	size_t rec = head + FUSE_DIRENT_ALIGN(sizeof(d) + d.namelen);
	memset(buf + at + head + sizeof(d) + d.namelen, 0, rec - head - sizeof(d) - d.namelen);
	return at + rec;
}

static void
test_dirents(void)
{
	static unsigned char buf[4096] __attribute__((aligned(8)));
	struct fuse_dirent_view v;
	size_t len = 0, pos = 0;

	len = add_dirent(buf, len, false, 1, 1, DT_DIR, ".");
	len = add_dirent(buf, len, false, 1, 2, DT_DIR, "..");
	len = add_dirent(buf, len, false, 9, 3, DT_REG, "a-file-name");
	len = add_dirent(buf, len, false, 10, 4, 99, "x");
	int got[4] = { 0 };
	for (int i = 0; i < 4; i++)
		got[i] = fuse_dirent_next(buf, len, &pos, false, &v);
	ok(got[0] == 1 && got[1] == 1 && got[2] == 1 && got[3] == 1, "four records");
	ok(v.ino == 10 && v.off == 4 && v.type == DT_UNKNOWN && v.namelen == 1 && v.name[0] == 'x',
	   "the last one, its unknown type as DT_UNKNOWN");
	is_int(fuse_dirent_next(buf, len, &pos, false, &v), 0, "then the end");
	is_int(pos, len, "every byte consumed");

	size_t one = add_dirent(buf, 0, false, 1, 1, DT_REG, "abc");
	pos = 0;
	is_int(fuse_dirent_next(buf, one - 1, &pos, false, &v), -EIO,
	       "a record running past the end: EIO");
	pos = 0;
	is_int(fuse_dirent_next(buf, 20, &pos, false, &v), -EIO, "less than a record header: EIO");
	pos = 4;
	is_int(fuse_dirent_next(buf, one, &pos, false, &v), -EIO, "a misaligned position: EIO");
	add_dirent(buf, 0, false, 1, 1, DT_REG, "a/b");
	pos = 0;
	is_int(fuse_dirent_next(buf, one, &pos, false, &v), -EIO, "a '/' in a name: EIO");
	add_dirent(buf, 0, false, 1, 1, DT_REG, "abc");
	buf[sizeof(struct fuse_dirent) + 1] = 0;
	pos = 0;
	is_int(fuse_dirent_next(buf, one, &pos, false, &v), -EIO, "a NUL in a name: EIO");
	add_dirent(buf, 0, false, 1, 1, DT_REG, "abc");
	((struct fuse_dirent *)buf)->namelen = 0;
	pos = 0;
	is_int(fuse_dirent_next(buf, one, &pos, false, &v), -EIO, "an empty name: EIO");
	((struct fuse_dirent *)buf)->namelen = 256;
	pos = 0;
	is_int(fuse_dirent_next(buf, sizeof(buf), &pos, false, &v), -EIO, "a 256-byte name: EIO");

	len = add_dirent(buf, 0, true, 77, 1, DT_REG, "plus");
	len = add_dirent(buf, len, true, 78, 2, DT_DIR, "dir");
	pos = 0;
	ok(fuse_dirent_next(buf, len, &pos, true, &v) == 1 && v.entry && v.entry->nodeid == 77 &&
	   v.namelen == 4, "READDIRPLUS: the entry comes with the record");
	ok(fuse_dirent_next(buf, len, &pos, true, &v) == 1 && v.entry->nodeid == 78 &&
	   v.type == DT_DIR && fuse_dirent_next(buf, len, &pos, true, &v) == 0,
	   "READDIRPLUS: the second, then the end");
}

/* xorshift: the corruption loop is reproducible. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
corrupt(unsigned char *p, size_t len)
{
	unsigned k = 1 + (unsigned)(rnd() % 4);

	while (k--) {
		size_t at = (size_t)(rnd() % len);
		switch (rnd() % 3) {
		case 0: p[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
		case 1: p[at] = (unsigned char)rnd(); break;
		default: p[at] = (unsigned char)(rnd() % 2 ? 0xff : 0); break;
		}
	}
}

static void
test_corruption(void)
{
	const int rounds = 20000;
	int bad_len = 0, loops = 0, accepted = 0, rejected = 0;
	struct fuse_entry_out good = good_entry();

	for (int r = 0; r < rounds; r++) {
		/* A LOOKUP reply, damaged, and a random written count. */
		struct fuse_call c;
		struct fuse_seg seg[FUSE_SEGS_MAX];
		struct fuse_entry_out e;
		unsigned char msg[256];
		unsigned n = lookup_call(&c, &e, seg);
		size_t len = make_reply(msg, 99, 0, &good, sizeof(good));
		corrupt(msg, len);
		uint32_t w = device_reply(seg, n, msg, len);
		if (rnd() % 4 == 0)
			w = (uint32_t)(rnd() % 200);
		long got = fuse_call_check(&c, w);
		if (got >= 0) {
			accepted++;
			if (got != 128)
				bad_len++;
			(void)fuse_entry_check(&e);
		} else {
			rejected++;
		}

		/* A directory buffer, damaged, walked to its end. */
		static unsigned char buf[1024] __attribute__((aligned(8)));
		size_t dl = 0;
		bool plus = r % 2;
		for (int i = 0; i < 4; i++)
			dl = add_dirent(buf, dl, plus, 5 + i, i + 1, DT_REG, i % 2 ? "name" : "a-longer-name");
		corrupt(buf, dl);
		size_t limit = rnd() % 3 ? dl : (size_t)(rnd() % (dl + 1));
		size_t pos = 0, last = 0;
		struct fuse_dirent_view v;
		int k, steps = 0;
		while ((k = fuse_dirent_next(buf, limit, &pos, plus, &v)) == 1) {
			if (pos <= last || pos > limit || v.name < (const char *)buf ||
			    v.name + v.namelen > (const char *)buf + limit)
				loops++;
			last = pos;
			if (++steps > 100) {
				loops++;
				break;
			}
		}
	}
	is_int(bad_len, 0, "%d corrupted LOOKUP replies: none accepted with a wrong length",
	       rounds);
	ok(accepted > 0 && rejected > 0, "some damage is harmless, most is caught (%d accepted, %d rejected)",
	   accepted, rejected);
	is_int(loops, 0, "%d corrupted directory buffers: every walk moves forward inside the buffer",
	       rounds);
}

int
main(void)
{
	test_segments();
	test_check();
	test_entry_attr();
	test_init();
	test_dirents();
	test_corruption();
	return done_testing();
}
