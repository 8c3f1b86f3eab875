/*
 * The VFS on the host: path walks (., .., symlinks, mount points) over
 * ramfs, the descriptor table, and the newc cpio parser and unpacker,
 * including a corruption loop (every truncation and many byte flips of
 * a valid archive must give an error or a clean result, never a crash;
 * the -san build checks the memory accesses).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs/cpio.h"
#include "lib/fs/vfs.h"
#include "tap.h"

/* One thread: the sleeping lock never waits. */
int
futex_wait(uint32_t *addr, uint32_t val, uint32_t bitset, uint64_t deadline)
{
	(void)addr, (void)val, (void)bitset, (void)deadline;
	return -EAGAIN;
}

int
futex_wake(uint32_t *addr, int n, uint32_t bitset)
{
	(void)addr, (void)n, (void)bitset;
	return 0;
}

static size_t
put_entry(uint8_t *buf, size_t at, const char *name, unsigned mode,
	  const char *data, size_t size)
{
	size_t nl = strlen(name) + 1;
	int n = sprintf((char *)buf + at,
			"070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
			1u, mode, 0u, 0u, 1u, 1000u, size, 0u, 0u, 0u, 0u, nl, 0u);
	at += (size_t)n;
	memcpy(buf + at, name, nl);
	at += nl;
	while (at % 4)
		buf[at++] = 0;
	memcpy(buf + at, data, size);
	at += size;
	while (at % 4)
		buf[at++] = 0;
	return at;
}

static size_t
archive(uint8_t *buf)
{
	size_t at = 0;

	at = put_entry(buf, at, ".", 040755, "", 0);
	at = put_entry(buf, at, "./etc", 040755, "", 0);
	at = put_entry(buf, at, "./etc/motd", 0100644, "hello\n", 6);
	at = put_entry(buf, at, "deep/er/file", 0100600, "abc", 3);
	at = put_entry(buf, at, "./etc/link", 0120777, "motd", 4);
	at = put_entry(buf, at, "TRAILER!!!", 0, "", 0);
	return at;
}

static ssize_t
read_path(const char *path, char *buf, size_t len)
{
	struct vnode *vn;
	int r = vfs_open_vnode(NULL, path, O_RDONLY, 0, &vn);

	if (r)
		return r;
	ssize_t n = vn->ops->read(vn, buf, len, 0);
	vn_put(vn);
	return n;
}

static int
exists(const char *path, int flags)
{
	struct vnode *vn;
	int r = vfs_resolve(NULL, path, flags, &vn);

	if (!r)
		vn_put(vn);
	return r;
}

int
main(void)
{
	plan(73);
	vfs_register_fs(&ramfs_type);
	is_int(vfs_register_fs(&ramfs_type), -EEXIST, "a type registers once");
	is_int(vfs_mount_root("ramfs", "root"), 0, "ramfs mounts on /");

	/* cpio */
	uint8_t *buf = calloc(1, 4096);
	size_t len = archive(buf), pos = 0;
	struct cpio_entry e;
	const char *why = "";
	is_int(cpio_next(buf, len, &pos, &e, &why), 1, "first entry parses");
	is_str(e.name, ".", "its name");
	is_int(cpio_unpack(buf, len, "/", &why), 0, "the archive unpacks");
	char data[64] = { 0 };
	is_int((int)read_path("/etc/motd", data, sizeof(data)), 6, "file size");
	is_str(data, "hello\n", "file contents");
	is_int(exists("/deep/er/file", 0), 0, "missing parents are made");
	memset(data, 0, sizeof(data));
	is_int((int)read_path("/etc/link", data, sizeof(data)), 6, "a symlink is followed");
	is_int(exists("/etc/link", VFS_NOFOLLOW), 0, "and exists as a link");
	ok(cpio_unpack(buf, len - 8, "/", &why) == -EINVAL, "a cut archive fails: %s", why);
	ok(cpio_unpack((const uint8_t *)"junkjunkjunk", 12, "/", &why) == -EINVAL &&
	   strstr(why, "magic"), "junk: %s", why);

	/* sendfile's pin: ramfs lends its bytes and copies before changing them. */
	{
		struct vnode *vn;
		const void *lent = NULL;
		struct kbuf *ref = NULL;
		off_t at = 0;
		is_int(vfs_open_vnode(NULL, "/etc/motd", O_RDWR, 0, &vn), 0, "open a file to lend");
		is_int((int)vn->ops->pin(vn, 1, 100, &lent, &ref), 5, "pin: the bytes to the end");
		ok(lent && !memcmp(lent, "ello\n", 5), "in place");
		is_int((int)vn->ops->write(vn, "HELLO", 5, &at, false), 5, "a write while lent");
		memset(data, 0, sizeof(data));
		read_path("/etc/motd", data, sizeof(data));
		is_str(data, "HELLO\n", "the file has the new bytes");
		ok(!memcmp(lent, "ello\n", 5), "what was lent has the old ones");
		is_int(vn->ops->truncate(vn, 0), 0, "truncate while lent");
		ok(!memcmp(lent, "ello\n", 5), "still the old bytes");
		const void *none = NULL;
		struct kbuf *nref = NULL;
		is_int((int)vn->ops->pin(vn, 0, 10, &none, &nref), 0, "pin at the end: 0");
		ok(!nref, "and no reference");
		kbuf_put(ref);	/* the last: ASan checks the old bytes are freed once */
		at = 0;
		is_int((int)vn->ops->write(vn, "hello\n", 6, &at, false), 6, "restored");
		vn_put(vn);
	}

	/* Corruption loop: truncations and byte flips never crash. */
	uint8_t *copy = malloc(len);
	int errors = 0;
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(copy, buf, cut);
		errors += cpio_unpack(copy, cut, "/c", &why) != 0;
	}
	is_int(errors, (int)len, "every truncation is an error");
	srand(1);
	for (int i = 0; i < 4000; i++) {
		memcpy(copy, buf, len);
		for (int k = 0; k < 3; k++)
			copy[rand() % len] = (uint8_t)rand();
		cpio_unpack(copy, len, "/f", &why);
	}
	ok(1, "4000 corrupted archives unpacked or refused without a crash");
	free(copy);

	/* Paths */
	is_int(vfs_mkdir(NULL, "/a", 0755), 0, "mkdir /a");
	is_int(vfs_mkdir(NULL, "/a/b", 0755), 0, "mkdir /a/b");
	is_int(vfs_mkdir(NULL, "/a/b/", 0755), -EEXIST, "mkdir again: EEXIST");
	is_int(exists("/a/./b/../b/.", VFS_DIRECTORY), 0, ". and .. in the middle");
	is_int(exists("/../../a", 0), 0, "/.. stays at /");
	is_int(exists("/a/nope/b", 0), -ENOENT, "ENOENT in the middle");
	is_int(exists("/etc/motd/x", 0), -ENOTDIR, "ENOTDIR through a file");
	is_int(exists("/etc/motd/", 0), -ENOTDIR, "trailing slash on a file");
	is_int(vfs_symlink("/a/b", NULL, "/ab"), 0, "absolute symlink");
	is_int(exists("/ab/../b", VFS_DIRECTORY), 0, ".. after a symlink is the target's parent");
	is_int(vfs_symlink("l2", NULL, "/l1"), 0, "loop part 1");
	is_int(vfs_symlink("l1", NULL, "/l2"), 0, "loop part 2");
	is_int(exists("/l1", 0), -ELOOP, "symlink loop: ELOOP");
	is_int(vfs_rmdir(NULL, "/a"), -ENOTEMPTY, "rmdir a non-empty directory");
	is_int(vfs_rename(NULL, "/a", NULL, "/a/b/c", 0), -EINVAL, "rename under itself");
	is_int(vfs_rename(NULL, "/a/b", NULL, "/bb", 0), 0, "rename a directory");
	is_int(vfs_mkdir(NULL, "/m", 0755), 0, "mkdir /m");
	is_int(vfs_mount("x", NULL, "/m", "ramfs", 0, NULL), 0, "mount ramfs on /m");
	is_int(vfs_mkdir(NULL, "/m/in", 0755), 0, "mkdir on the mount");
	is_int(exists("/m/in/../../bb", VFS_DIRECTORY), 0, ".. crosses out of the mount");
	is_int(vfs_rename(NULL, "/m/in", NULL, "/in", 0), -EXDEV, "rename across mounts");

	/* Descriptors */
	struct vnode *vn;
	vfs_resolve(NULL, "/etc/motd", 0, &vn);
	struct file *f = file_new(vn, O_RDONLY);
	int fd = fd_install(f, 0, false);
	is_int(fd, 0, "first descriptor is 0");
	is_int(fd_install(f, 0, true), 1, "next is 1");
	is_int(fd_dup_to(0, 7, false), 7, "dup to 7");
	file_put(f);
	is_int(fd_close(1) | fd_close(0) | fd_close(7), 0, "all three close");
	is_int(fd_close(7), -EBADF, "a closed descriptor is gone");

	/* The table grows past 1024 and finds the lowest free slot. */
	vfs_resolve(NULL, "/etc/motd", 0, &vn);
	f = file_new(vn, O_RDONLY);
	unsigned long lim[2];
	is_int(fd_rlimit(NULL, lim), 0, "RLIMIT_NOFILE reads");
	ok(lim[0] == 65536 && lim[1] == 65536, "soft and hard limits are 65536");
	enum { MANY = 5000 };
	bool all = true;
	for (int i = 0; i < MANY; i++)
		all &= fd_install(f, 0, i % 3 == 0) == i;
	ok(all, "5000 descriptors, each the lowest free one");
	is_int(fd_get_cloexec(4997), 0, "close-on-exec kept per slot (4997 off)");
	is_int(fd_get_cloexec(4995), 1, "close-on-exec kept per slot (4995 on)");
	fd_close(3000);
	fd_close(70);
	is_int(fd_install(f, 0, false), 70, "a hole low in the table is reused first");
	is_int(fd_install(f, 100, false), 3000, "then the next hole at or above min");
	is_int(fd_install(f, 64, false), MANY, "a full table appends");
	is_int(fd_dup_to(5, 9000, true), 9000, "dup2 far beyond the end grows the table");
	is_int(fd_get_cloexec(9000), 1, "with its close-on-exec flag");
	is_int(fd_install(f, 8999, false), 8999, "min just below a used slot");
	is_int(fd_install(f, 8999, false), 9001, "and the slot after it");
	unsigned long low[2] = { 9001, 65536 };
	is_int(fd_rlimit(low, NULL), 0, "lower the soft limit below open descriptors");
	is_int(fd_install(f, 8000, false), 8000, "free slots under it still serve");
	is_int(fd_install(f, 9001, false), -EMFILE, "none at or above it: EMFILE");
	is_int(fd_dup_to(5, 9001, false), -EBADF, "dup2 to it: EBADF");
	is_int(fd_get_cloexec(9001), 0, "open descriptors above it stay open");
	unsigned long bad[2] = { 70000, 65536 }, huge[2] = { 1UL << 20, (1UL << 20) + 1 };
	is_int(fd_rlimit(bad, NULL), -EINVAL, "soft above hard: EINVAL");
	is_int(fd_rlimit(huge, NULL), -EINVAL, "hard above FD_MAX: EINVAL");
	unsigned long raise[2] = { 1UL << 20, 1UL << 20 };
	is_int(fd_rlimit(raise, lim), 0, "raise both to FD_MAX (the program is root)");
	ok(lim[0] == 9001 && lim[1] == 65536, "the old limits come back");
	for (int i = 0; i <= 9001; i++)
		fd_close(i);
	is_int(fd_install(f, 0, false), 0, "after closing all, 0 again");
	fd_close(0);
	file_put(f);
	free(buf);
	return done_testing();
}
