/*
 * virtio-fs from an ordinary C program, for tests/guest/virtiofs.test:
 * mounts the host directory shared with tag "share" on /srv, reads every
 * file the host listed in /srv/MANIFEST ("cksum size path" lines, as
 * cksum(1) prints them) and compares the POSIX cksum, lists directories,
 * then makes the changes the test expects to find on the host: a new
 * directory with a copy of the largest file and a small text file, a
 * rename across directories, an unlink, mkdir and rmdir, a truncate and
 * an append.  TAP lines on the console.  Arguments: "mounted" when the
 * kernel option mount=share:/srv:virtiofs did the mount, "read" to only
 * read (no changes).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <toro/dev.h>
#include <unistd.h>

#include "tap.h"

#define WORKS(call) ok((call) == 0, "%s (errno %d)", #call, errno)

static uint32_t crc_table[256];

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? c << 1 ^ 0x04C11DB7u : c << 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc_add(uint32_t crc, const unsigned char *p, size_t n)
{
	while (n--)
		crc = crc << 8 ^ crc_table[(crc >> 24 ^ *p++) & 0xff];
	return crc;
}

/* POSIX cksum of a file read in odd-sized pieces; -1 on error. */
static int
cksum_path(const char *path, uint32_t *sum, unsigned long long *size)
{
	static unsigned char buf[300000];
	static const size_t pieces[] = { 1, 4096, 65536, 131072 + 17, 300000 };
	uint32_t crc = 0;
	unsigned long long n = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	for (unsigned i = 0;; i++) {
		ssize_t got = read(fd, buf, pieces[i % 5]);
		if (got < 0) {
			close(fd);
			return -1;
		}
		if (!got)
			break;
		crc = crc_add(crc, buf, (size_t)got);
		n += (unsigned long long)got;
	}
	close(fd);
	for (unsigned long long s = n; s; s >>= 8) {
		unsigned char c = s & 0xff;
		crc = crc_add(crc, &c, 1);
	}
	*sum = ~crc;
	*size = n;
	return 0;
}

static void
check_manifest(void)
{
	FILE *f = fopen("/srv/MANIFEST", "r");
	char line[512], path[400];
	unsigned long long want_size, size;
	unsigned long want;
	uint32_t sum;
	int files = 0, good = 0;

	ok(f != NULL, "fopen /srv/MANIFEST (errno %d)", errno);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lu %llu %399s", &want, &want_size, path) != 3)
			continue;
		char full[420];
		snprintf(full, sizeof(full), "/srv/%s", path + (path[0] == '.' ? 2 : 0));
		files++;
		if (cksum_path(full, &sum, &size)) {
			printf("# %s: error %d\n", full, errno);
			continue;
		}
		if (sum == want && size == want_size)
			good++;
		else
			printf("# %s: cksum %u size %llu, want %lu %llu\n", full, sum,
			       size, want, want_size);
	}
	fclose(f);
	ok(files >= 5 && good == files, "every file in the manifest read byte-exact (%d of %d)",
	   good, files);
}

static void
check_dirs(void)
{
	DIR *d = opendir("/srv/many");
	struct dirent *e;
	int n = 0, dots = 0, bad = 0;
	static char seen[300];

	ok(d != NULL, "opendir /srv/many (errno %d)", errno);
	if (!d)
		return;
	while ((e = readdir(d))) {
		unsigned k;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
			dots++;
			continue;
		}
		if (sscanf(e->d_name, "file-with-a-longish-name-%u", &k) == 1 && k < 300 &&
		    !seen[k] && e->d_type == DT_REG)
			seen[k] = 1, n++;
		else
			bad++;
	}
	closedir(d);
	ok(n == 300 && dots == 2 && !bad, "readdir /srv/many: 300 files, . and .. (%d, %d, %d odd)",
	   n, dots, bad);
	struct stat st;
	WORKS(stat("/srv/data/sub/deep", &st));
	ok(S_ISDIR(st.st_mode), "stat: a directory is a directory");
	WORKS(stat("/srv/data/sub/deep/../../small", &st));
	WORKS(stat("/srv/..", &st));
	WORKS(stat("/srv/data/big", &st));
	ok(S_ISREG(st.st_mode) && st.st_size == 16 << 20, "stat /srv/data/big: 16 MiB (%lld)",
	   (long long)st.st_size);
	char buf[16] = "";
	ssize_t n2 = readlink("/srv/link", buf, sizeof(buf) - 1);
	ok(n2 == 10 && !memcmp(buf, "data/small", 10), "readlink /srv/link (%zd)", n2);
	int fd = open("/srv/link", O_RDONLY);
	ok(fd >= 0, "open through a symlink (errno %d)", errno);
	close(fd);
	struct statfs sf;
	WORKS(statfs("/srv", &sf));
	ok(sf.f_type == 0x65735546, "statfs: the FUSE magic (%lx)", (unsigned long)sf.f_type);
	FAILS(open("/srv/no-such-file", O_RDONLY), ENOENT);
	FAILS(rmdir("/srv/data"), ENOTEMPTY);
}

/* Copies src to dst in odd-sized writes. */
static int
copy(const char *src, const char *dst)
{
	static unsigned char buf[1 << 20];
	static const size_t pieces[] = { 1, 1 << 20, 4095, 200000, 65536 };
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0644);
	int err = in < 0 || out < 0;

	for (unsigned i = 0; !err; i++) {
		ssize_t n = read(in, buf, pieces[i % 5]);
		if (n <= 0) {
			err = n < 0;
			break;
		}
		if (write(out, buf, (size_t)n) != n)
			err = 1;
	}
	if (out >= 0 && fsync(out))
		err = 1;
	close(in);
	close(out);
	return err ? -1 : 0;
}

static void
make_changes(void)
{
	WORKS(mkdir("/srv/new", 0755));
	WORKS(copy("/srv/data/big", "/srv/new/copy.bin"));
	FILE *f = fopen("/srv/new/hello.txt", "w");
	ok(f && fprintf(f, "hello from toro over virtio-fs\n") > 0 && !fclose(f),
	   "fopen/fprintf/fclose /srv/new/hello.txt");
	FAILS(open("/srv/new/hello.txt", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	WORKS(rename("/srv/ren-src", "/srv/new/ren-dst"));
	FAILS(open("/srv/ren-src", O_RDONLY), ENOENT);
	WORKS(unlink("/srv/del-me"));
	FAILS(unlink("/srv/del-me"), ENOENT);
	WORKS(mkdir("/srv/made", 0755));
	WORKS(mkdir("/srv/made/sub", 0755));
	WORKS(rmdir("/srv/made/sub"));
	WORKS(rmdir("/srv/empty"));
	WORKS(truncate("/srv/trunc", 1000));
	struct stat st = { 0 };
	int r = stat("/srv/trunc", &st);
	ok(!r && st.st_size == 1000, "truncate: size 1000 (%lld)", (long long)st.st_size);
	int fd = open("/srv/append", O_WRONLY | O_APPEND);
	ok(fd >= 0 && write(fd, "appended\n", 9) == 9, "O_APPEND write (errno %d)", errno);
	close(fd);
	fd = open("/srv/new/hello.txt", O_RDONLY);
	char buf[64] = "";
	ok(fd >= 0 && read(fd, buf, sizeof(buf)) == 31 &&
	   !memcmp(buf, "hello from toro over virtio-fs\n", 31), "read back what was written");
	close(fd);
}

int
main(int argc, char **argv)
{
	int mounted = 0, readonly = 0;

	for (int i = 1; i < argc; i++) {
		mounted |= !strcmp(argv[i], "mounted");
		readonly |= !strcmp(argv[i], "read");
	}
	crc_init();
	if (!mounted) {
		FAILS(mount("no-such-tag", "/tmp", "virtiofs", 0, NULL), ENODEV);
		mkdir("/srv", 0755);
		WORKS(mount("share", "/srv", "virtiofs", 0, NULL));
		FAILS(mount("share", "/tmp", "virtiofs", 0, NULL), EBUSY);
	}
	/* The device is dedicated to core 0; with two, move it to core 1
	 * (toro_dedicate) and do the rest through that core's interrupts. */
	ok(toro_dedicated_cpu("virtiofs:share") == 0, "virtiofs:share is dedicated to core 0");
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		ok(toro_dedicate("virtiofs:share", 1) == 0 &&
		   toro_dedicated_cpu("virtiofs:share") == 1, "virtiofs:share moved to core 1");
	check_manifest();
	check_dirs();
	if (!readonly)
		make_changes();
	if (!mounted) {
		WORKS(umount("/srv"));
		WORKS(mount("share", "/srv", "virtiofs", 0, NULL));
		struct stat st;
		WORKS(stat("/srv/MANIFEST", &st));
	}
	return tap_end();
}
