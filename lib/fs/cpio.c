/*
 * The initrd format: "newc" cpio archives (magic 070701, or 070702 with
 * checksums, which are not checked), as `cpio -o -H newc` and the Linux
 * initramfs tools write them.  cpio_next() parses one entry with every
 * length checked against the buffer; cpio_unpack() creates the
 * directories, regular files and symlinks of an archive through the VFS.
 * Device nodes, FIFOs and sockets are skipped; hard links become
 * separate files (only the last name of a set carries the data in newc).
 * A malformed archive stops with a reason; what came before it stays.
 */
#include "lib/fs/cpio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "lib/fs/vfs.h"
#include "lib/kernel/kstring.h"
#include "lib/mm/kheap.h"

#define HDR_LEN 110

static int
hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		unsigned d = c >= '0' && c <= '9' ? c - '0' :
			     c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			     c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
		if (d > 15)
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int
cpio_next(const uint8_t *buf, size_t len, size_t *pos, struct cpio_entry *e,
	  const char **why)
{
	size_t at = *pos;
	uint32_t f[13];

	const uint8_t *h = buf + at;
	if (at < len && len - at >= 6 &&
	    (memcmp(h, "07070", 5) || (h[5] != '1' && h[5] != '2'))) {
		*why = "bad magic (not a newc cpio archive)";
		return -EINVAL;
	}
	if (at > len || len - at < HDR_LEN) {
		*why = "archive truncated in a header (no TRAILER!!! entry)";
		return -EINVAL;
	}
	for (int i = 0; i < 13; i++) {
		if (hex8(h + 6 + 8 * i, &f[i])) {
			*why = "header field is not hexadecimal";
			return -EINVAL;
		}
	}
	uint32_t mode = f[1], size = f[6], namesize = f[11];
	size_t name_at = at + HDR_LEN;
	if (namesize == 0 || namesize > len - name_at) {
		*why = "name runs past the end of the archive";
		return -EINVAL;
	}
	const char *name = (const char *)buf + name_at;
	if (kstrnlen(name, namesize) != namesize - 1) {
		*why = "name is not terminated where its size says";
		return -EINVAL;
	}
	size_t data_at = pad4(name_at + namesize);
	if (data_at > len || size > len - data_at) {
		*why = "file data runs past the end of the archive";
		return -EINVAL;
	}
	*e = (struct cpio_entry){
		.name = name, .namelen = namesize - 1, .mode = mode,
		.mtime = f[5], .data = buf + data_at, .size = size,
	};
	*pos = pad4(data_at + size);
	if (*pos > len)
		*pos = len;
	return kstrcmp(name, "TRAILER!!!") ? 1 : 0;
}

/* ------------------------------------------------------------ unpacking */

/* Creates every missing directory on the way to path's last component. */
static int
make_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		int r = vfs_mkdir(NULL, path, 0755);
		*p = '/';
		if (r && r != -EEXIST)
			return r;
	}
	return 0;
}

static int
unpack_file(const char *path, const struct cpio_entry *e)
{
	struct vnode *vn;
	int r = vfs_open_vnode(NULL, path, O_CREAT | O_WRONLY | O_TRUNC,
			       e->mode & 07777, &vn);

	if (r)
		return r;
	off_t pos = 0;
	ssize_t n = e->size ? vn->ops->write(vn, e->data, e->size, &pos, false) : 0;
	ramfs_set_mtime(vn, e->mtime);
	vn_put(vn);
	return n < 0 ? (int)n : 0;
}

static int
unpack_symlink(const char *path, const struct cpio_entry *e)
{
	char *target = kmalloc(e->size + 1);

	if (!target)
		return -ENOMEM;
	memcpy(target, e->data, e->size);
	target[e->size] = 0;
	int r = kstrnlen(target, e->size + 1) != e->size ? -EINVAL :
		vfs_symlink(target, NULL, path);
	if (r == -EEXIST && !vfs_unlink(NULL, path))
		r = vfs_symlink(target, NULL, path);
	kfree(target);
	return r;
}

/* Whether name has a ".." component (it would leave the directory). */
static bool
escapes(const char *name)
{
	for (const char *p = name; *p;) {
		if (p[0] == '.' && p[1] == '.' && (!p[2] || p[2] == '/'))
			return true;
		while (*p && *p != '/')
			p++;
		while (*p == '/')
			p++;
	}
	return false;
}

static int
unpack_one(char *path, size_t base, const struct cpio_entry *e, const char **why)
{
	const char *name = e->name;
	int r = 0;

	while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '/' ? 1 : 2;
	if (!*name || !kstrcmp(name, "."))
		return 0;
	if (escapes(name)) {
		*why = "a name with a '..' component";
		return -EINVAL;
	}
	if (base + kstrlen(name) + 2 > VFS_PATH_MAX) {
		*why = "a name longer than PATH_MAX";
		return -ENAMETOOLONG;
	}
	path[base] = '/';
	kstrlcpy(path + base + 1, name, VFS_PATH_MAX - base - 1);
	if ((r = make_parents(path))) {
		*why = "cannot create a directory";
		return r;
	}
	switch (e->mode & S_IFMT) {
	case S_IFDIR:
		r = vfs_mkdir(NULL, path, e->mode & 07777);
		if (r == -EEXIST) {
			struct vnode *vn;
			if (!(r = vfs_resolve(NULL, path, VFS_DIRECTORY, &vn)))
				vn_put(vn);
		}
		*why = "cannot create a directory";
		break;
	case S_IFREG:
		r = unpack_file(path, e);
		*why = "cannot create a file";
		break;
	case S_IFLNK:
		r = unpack_symlink(path, e);
		*why = "cannot create a symlink";
		break;
	}
	return r;
}

int
cpio_unpack(const void *data, size_t len, const char *at, const char **why)
{
	char *path = kmalloc(VFS_PATH_MAX);
	size_t pos = 0, base = kstrlen(at);
	struct cpio_entry e;
	int r;

	if (!path) {
		*why = "out of memory";
		return -ENOMEM;
	}
	while (base && at[base - 1] == '/')
		base--;
	if (base + 2 > VFS_PATH_MAX)
		base = 0;
	memcpy(path, at, base);
	while ((r = cpio_next(data, len, &pos, &e, why)) > 0)
		if ((r = unpack_one(path, base, &e, why)))
			break;
	kfree(path);
	return r;
}
