/*
 * FAT on virtio-blk as an application meets it (fat.test): with
 * "cksum PATH..." it prints the POSIX cksum of each file (the host
 * compares them with the files it put on the image); with "change DIR" it
 * mounts nothing itself (mount= on the kernel command line did) and makes
 * changes the host then checks with mtools and fsck.fat: a directory, a
 * copy of DIR/big.bin in it through stdio, a long-named file, a rename, a
 * removal, a truncation and a removed empty directory, then fsync and
 * statfs; with "mount DEV DIR" it mounts DEV on DIR with mount(2) and
 * lists it.  Prints TAP; exits 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cksum.h"
#include "tap.h"

static char path_buf[512];

static const char *
at(const char *dir, const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	return path_buf;
}

static int
copy(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	static char buf[12345];	/* an odd size: writes cross cluster ends */
	size_t n;
	int bad = !in || !out;

	while (!bad && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		bad = fwrite(buf, 1, n, out) != n;
	if (in)
		fclose(in);
	if (out)
		bad |= fclose(out) != 0;
	return bad ? -1 : 0;
}

static void
change(const char *dir)
{
	char a[512], b[512];
	struct stat st;

	ok(mkdir(at(dir, "new"), 0755) == 0, "mkdir %s/new (errno %d)", dir, errno);
	snprintf(a, sizeof(a), "%s/big.bin", dir);
	snprintf(b, sizeof(b), "%s/new/copy.bin", dir);
	ok(copy(a, b) == 0, "copy big.bin to new/copy.bin with stdio");
	ok(stat(b, &st) == 0 && stat(a, &st) == 0, "both copies stat");
	int fd = open(at(dir, "A Long File Name.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644);
	ok(fd >= 0 && write(fd, "hello, FAT\n", 11) == 11 && fsync(fd) == 0 && close(fd) == 0,
	   "create, write and fsync a long-named file");
	ok(open(at(dir, "A Long File Name.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644) == -1 &&
	   errno == EEXIST, "O_EXCL on it again is EEXIST");
	snprintf(a, sizeof(a), "%s/small.txt", dir);
	snprintf(b, sizeof(b), "%s/renamed.txt", dir);
	ok(rename(a, b) == 0, "rename small.txt to renamed.txt (errno %d)", errno);
	ok(unlink(at(dir, "gone.txt")) == 0, "unlink gone.txt (errno %d)", errno);
	ok(unlink(at(dir, "gone.txt")) == -1 && errno == ENOENT, "unlink it again is ENOENT");
	ok(truncate(at(dir, "trunc.bin"), 1000) == 0, "truncate trunc.bin to 1000 bytes");
	ok(rmdir(at(dir, "emptydir")) == 0, "rmdir emptydir (errno %d)", errno);
	ok(rmdir(at(dir, "sub")) == -1 && errno == ENOTEMPTY, "rmdir of a full directory is ENOTEMPTY");
	ok(mkdir(at(dir, "new"), 0755) == -1 && errno == EEXIST, "mkdir of an existing name is EEXIST");
	struct statfs sf;
	ok(statfs(dir, &sf) == 0 && sf.f_type == 0x4d44 && sf.f_bfree < sf.f_blocks,
	   "statfs says vfat, with free and used clusters");
	DIR *d = opendir(dir);
	int names = 0, dots = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		names++;
		dots += !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	}
	if (d)
		closedir(d);
	ok(d && dots == 2 && names >= 8, "readdir lists . and .. and the files (%d names)", names);
	sync();
}

int
main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "cksum")) {
		int bad = 0;
		for (int i = 2; i < argc; i++)
			bad |= cksum_file(argv[i]);
		return bad;
	}
	if (argc > 2 && !strcmp(argv[1], "change")) {
		change(argv[2]);
		return tap_end();
	}
	if (argc > 3 && !strcmp(argv[1], "mount")) {
		mkdir(argv[3], 0755);
		ok(mount(argv[2], argv[3], "vfat", 0, NULL) == 0, "mount %s on %s (errno %d)",
		   argv[2], argv[3], errno);
		ok(access(at(argv[3], "small.txt"), R_OK) == 0, "its files are there");
		ok(umount(argv[3]) == 0, "umount %s (errno %d)", argv[3], errno);
		ok(mount("/dev/null", argv[3], "vfat", 0, NULL) == -1, "mount of a non-disk fails");
		return tap_end();
	}
	printf("usage: fat cksum PATH... | change DIR | mount DEV DIR\n");
	return 2;
}
