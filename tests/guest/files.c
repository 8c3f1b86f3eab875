/*
 * The file system calls, from an ordinary C program: every call of the
 * VFS with its Linux errors, stdio and dirent on top, threads appending
 * to one file, devfs, mount/umount of a ramfs.  TAP lines for
 * tests/guest/files.test.  With arguments "cksum PATH...", it prints the
 * POSIX cksum (CRC, size) of each file instead (the initrd check), and
 * "link PATH TARGET" lines for symlinks, and for "statfs:PATH" the file
 * system's magic number.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cksum.h"
#include "tap.h"

/* ok() on a call that must fail with errno e. */
#define WORKS(call) ok((call) == 0, "%s (errno %d)", #call, errno)

static int
initrd_mode(int argc, char **argv)
{
	int bad = 0;

	for (int i = 2; i < argc; i++) {
		char t[256];
		struct statfs sf;
		if (!strncmp(argv[i], "statfs:", 7)) {
			if (statfs(argv[i] + 7, &sf))
				printf("statfs %s error %d\n", argv[i] + 7, errno);
			else
				printf("statfs %s %lx\n", argv[i] + 7, (unsigned long)sf.f_type);
			continue;
		}
		ssize_t n = readlink(argv[i], t, sizeof(t) - 1);
		if (n >= 0) {
			t[n] = 0;
			printf("link %s %s\n", argv[i], t);
			continue;
		}
		bad |= cksum_file(argv[i]);
	}
	return bad;
}

static void
basic_io(void)
{
	char buf[64];
	struct stat st;
	int fd;

	FAILS(open("/tmp/nope", O_RDONLY), ENOENT);
	fd = open("/tmp/a", O_CREAT | O_EXCL | O_RDWR, 0644);
	ok(fd >= 3, "open O_CREAT|O_EXCL gives a new descriptor (%d)", fd);
	FAILS(open("/tmp/a", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
	ok(write(fd, "hello, world", 12) == 12, "write 12 bytes");
	ok(lseek(fd, 0, SEEK_CUR) == 12, "offset follows the write");
	ok(lseek(fd, 7, SEEK_SET) == 7 && read(fd, buf, 64) == 5 &&
	   !memcmp(buf, "world", 5), "lseek SEEK_SET then read");
	ok(read(fd, buf, 64) == 0, "read at the end returns 0");
	ok(lseek(fd, -5, SEEK_END) == 7, "lseek SEEK_END");
	FAILS(lseek(fd, -100, SEEK_CUR), EINVAL);
	FAILS(lseek(fd, 0, 42), EINVAL);
	ok(pwrite(fd, "W", 1, 7) == 1 && pread(fd, buf, 5, 7) == 5 &&
	   !memcmp(buf, "World", 5), "pwrite and pread at an offset");
	ok(lseek(fd, 0, SEEK_CUR) == 7, "pread/pwrite leave the offset alone");
	struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
	ok(pwritev(fd, iov, 2, 20) == 4, "pwritev past the end");
	ok(fstat(fd, &st) == 0 && st.st_size == 24 && S_ISREG(st.st_mode) &&
	   (st.st_mode & 0777) == 0644, "fstat: size 24, regular, mode 0644");
	char r1[8] = { 1 }, r2[4];
	struct iovec riov[2] = { { r1, 8 }, { r2, 4 } };
	ok(preadv(fd, riov, 2, 12) == 12 && r1[0] == 0 && !memcmp(r2, "abcd", 4),
	   "preadv reads the hole as zeros and the data after it");
	ok(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5,
	   "ftruncate shrinks");
	ok(truncate("/tmp/a", 10) == 0 && pread(fd, buf, 10, 0) == 10 &&
	   !memcmp(buf, "hello\0\0\0\0\0", 10), "truncate grows with zeros");
	close(fd);
	FAILS(close(fd), EBADF);
	FAILS(read(fd, buf, 1), EBADF);
	fd = open("/tmp/a", O_RDONLY);
	FAILS(write(fd, "x", 1), EBADF);
	FAILS(ftruncate(fd, 0), EINVAL);
	close(fd);
	fd = open("/tmp/a", O_WRONLY | O_APPEND);
	lseek(fd, 0, SEEK_SET);
	ok(write(fd, "XY", 2) == 2 && lseek(fd, 0, SEEK_CUR) == 12,
	   "O_APPEND writes at the end");
	close(fd);
	fd = open("/tmp/a", O_WRONLY | O_TRUNC);
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties");
	ok(writev(fd, iov, 2) == 4 && stat("/tmp/a", &st) == 0 && st.st_size == 4,
	   "writev and stat");
	close(fd);
	fd = creat("/tmp/c", 0600);
	ok(fd >= 0 && write(fd, "c", 1) == 1, "creat");
	close(fd);
}

static void
directories(void)
{
	struct stat st;
	int fd;

	WORKS(mkdir("/tmp/d", 0755));
	FAILS(mkdir("/tmp/d", 0755), EEXIST);
	FAILS(mkdir("/tmp/x/y", 0755), ENOENT);
	FAILS(mkdir("/tmp/a/y", 0755), ENOTDIR);
	FAILS(open("/tmp/a/y", O_RDONLY), ENOTDIR);
	FAILS(open("/tmp/d", O_WRONLY), EISDIR);
	FAILS(open("/tmp/a", O_RDONLY | O_DIRECTORY), ENOTDIR);
	fd = open("/tmp/d/f", O_CREAT | O_WRONLY, 0644);
	close(fd);
	FAILS(rmdir("/tmp/d"), ENOTEMPTY);
	FAILS(rmdir("/tmp/a"), ENOTDIR);
	FAILS(unlink("/tmp/d"), EISDIR);
	FAILS(unlink("/tmp/nope"), ENOENT);
	FAILS(rmdir("/tmp/d/."), EINVAL);
	ok(stat("/tmp/d/../d/./f", &st) == 0 && S_ISREG(st.st_mode), "stat through . and ..");
	ok(stat("/..", &st) == 0 && S_ISDIR(st.st_mode), "/.. is /");
	ok(stat("/tmp//d///f", &st) == 0, "repeated slashes");
	FAILS(stat("/tmp/a/", &st), ENOTDIR);
	FAILS(stat("", &st), ENOENT);

	WORKS(rename("/tmp/d/f", "/tmp/d/g"));
	FAILS(stat("/tmp/d/f", &st), ENOENT);
	WORKS(rename("/tmp/c", "/tmp/d/g"));	/* replaces g */
	ok(stat("/tmp/d/g", &st) == 0 && st.st_size == 1, "rename replaced the target");
	FAILS(rename("/tmp/d", "/tmp/d/sub"), EINVAL);
	FAILS(rename("/tmp/nope", "/tmp/x"), ENOENT);
	WORKS(mkdir("/tmp/e", 0755));
	FAILS(rename("/tmp/e", "/tmp/d/g"), ENOTDIR);
	FAILS(rename("/tmp/d/g", "/tmp/e"), EISDIR);
	FAILS(rename("/tmp/e", "/tmp/d"), ENOTEMPTY);
	FAILS(syscall(SYS_renameat2, AT_FDCWD, "/tmp/e", AT_FDCWD, "/tmp/f", 1), EINVAL);
	WORKS(renameat(AT_FDCWD, "/tmp/e", AT_FDCWD, "/tmp/d/e"));
	WORKS(rmdir("/tmp/d/e"));

	WORKS(symlink("d/g", "/tmp/l"));
	FAILS(symlink("x", "/tmp/l"), EEXIST);
	char t[64];
	ssize_t n = readlink("/tmp/l", t, sizeof(t));
	ok(n == 3 && !memcmp(t, "d/g", 3), "readlink");
	FAILS(readlink("/tmp/a", t, sizeof(t)), EINVAL);
	ok(stat("/tmp/l", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 1,
	   "stat follows a relative symlink");
	ok(lstat("/tmp/l", &st) == 0 && S_ISLNK(st.st_mode), "lstat does not");
	WORKS(symlink("/tmp/d", "/tmp/ld"));
	ok(stat("/tmp/ld/g", &st) == 0, "a symlink to a directory in the middle of a path");
	WORKS(symlink("loop2", "/tmp/loop1"));
	WORKS(symlink("loop1", "/tmp/loop2"));
	FAILS(open("/tmp/loop1", O_RDONLY), ELOOP);
	FAILS(open("/tmp/l", O_RDONLY | O_NOFOLLOW), ELOOP);
	WORKS(unlink("/tmp/l"));

	char cwd[256];
	ok(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/"), "getcwd at start is /");
	WORKS(chdir("/tmp/d"));
	ok(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/tmp/d"), "getcwd after chdir (%s)", cwd);
	ok(stat("g", &st) == 0 && stat("../a", &st) == 0, "relative paths from the cwd");
	FAILS(chdir("g"), ENOTDIR);
	ok(getcwd(cwd, 3) == NULL && errno == ERANGE, "getcwd with a short buffer: ERANGE");
	int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	WORKS(fchdir(dfd));
	ok(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/tmp"), "fchdir");
	fd = openat(dfd, "d/g", O_RDONLY);
	ok(fd >= 0, "openat relative to a directory descriptor");
	FAILS(openat(fd, "x", O_RDONLY), ENOTDIR);
	close(fd);
	WORKS(mkdirat(dfd, "m", 0700));
	WORKS(faccessat(dfd, "m", R_OK | W_OK | X_OK, 0));
	FAILS(access("/tmp/a", X_OK), EACCES);
	FAILS(access("/tmp/zz", F_OK), ENOENT);
	WORKS(unlinkat(dfd, "m", AT_REMOVEDIR));
	FAILS(unlinkat(dfd, "a", AT_REMOVEDIR), ENOTDIR);
	FAILS(openat(99, "x", O_RDONLY), EBADF);
	ok(fstatat(dfd, "d", &st, 0) == 0 && S_ISDIR(st.st_mode), "fstatat");
	close(dfd);
	chdir("/");
}

static void
descriptors(void)
{
	char buf[8];
	int fd = open("/tmp/a", O_RDWR);

	int d = dup(fd);
	ok(d > fd, "dup gives the lowest free descriptor above");
	lseek(fd, 1, SEEK_SET);
	ok(lseek(d, 0, SEEK_CUR) == 1, "dup shares the offset");
	ok(dup2(fd, 20) == 20 && read(20, buf, 1) == 1, "dup2 to a chosen number");
	ok(dup2(fd, fd) == fd, "dup2 onto itself");
	FAILS(dup3(fd, fd, 0), EINVAL);
	ok(dup3(fd, 21, O_CLOEXEC) == 21 && fcntl(21, F_GETFD) == FD_CLOEXEC,
	   "dup3 O_CLOEXEC");
	ok(fcntl(fd, F_DUPFD, 30) == 30, "F_DUPFD at or above 30");
	ok(fcntl(fd, F_GETFD) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 &&
	   fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_GETFD/F_SETFD");
	ok((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL access mode");
	ok(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK) == 0 &&
	   (fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK)) == (O_APPEND | O_NONBLOCK),
	   "F_SETFL O_APPEND|O_NONBLOCK");
	FAILS(fcntl(99, F_GETFD), EBADF);
	FAILS(dup2(99, 5), EBADF);
	int c = open("/tmp/a", O_RDONLY | O_CLOEXEC);
	ok(fcntl(c, F_GETFD) == FD_CLOEXEC, "open O_CLOEXEC");
	close(c);
	close(d), close(20), close(21), close(30), close(fd);
}

static void
stdio_and_dirent(void)
{
	FILE *f = fopen("/tmp/s.txt", "w");
	ok(f && fprintf(f, "line %d\nsecond\n", 1) > 0 && fclose(f) == 0, "fopen/fprintf/fclose");
	char line[64];
	f = fopen("/tmp/s.txt", "r");
	ok(f && fgets(line, sizeof(line), f) && !strcmp(line, "line 1\n") &&
	   fgets(line, sizeof(line), f) && !strcmp(line, "second\n") &&
	   !fgets(line, sizeof(line), f), "fgets reads the lines back");
	if (f)
		fclose(f);
	ok(fopen("/nope/x", "r") == NULL && errno == ENOENT, "fopen of a missing file");

	mkdir("/tmp/ls", 0755);
	const char *names[] = { "one", "two", "three" };
	for (int i = 0; i < 3; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/tmp/ls/%s", names[i]);
		close(open(p, O_CREAT | O_WRONLY, 0644));
	}
	DIR *dir = opendir("/tmp/ls");
	int seen = 0, dots = 0;
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			dots++;
		for (int i = 0; i < 3; i++)
			if (!strcmp(e->d_name, names[i]) && e->d_type == DT_REG)
				seen |= 1 << i;
	}
	ok(dir && seen == 7 && dots == 2, "readdir lists . .. one two three");
	if (dir)
		rewinddir(dir), ok(readdir(dir) != NULL, "rewinddir"), closedir(dir);
	int fd = open("/tmp/ls", O_RDONLY | O_DIRECTORY);
	char small[8];
	FAILS(syscall(SYS_getdents64, fd, small, sizeof(small)), EINVAL);
	close(fd);
	fd = open("/tmp/a", O_RDONLY);
	char big[256];
	FAILS(syscall(SYS_getdents64, fd, big, sizeof(big)), ENOTDIR);
	close(fd);
}

static void
devices(void)
{
	char buf[16];
	int fd = open("/dev/null", O_RDWR);
	ok(fd >= 0 && write(fd, "x", 1) == 1 && read(fd, buf, 16) == 0, "/dev/null");
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof(buf));
	ok(fd >= 0 && read(fd, buf, 16) == 16 && !buf[0] && !buf[15], "/dev/zero");
	close(fd);
	fd = open("/dev/urandom", O_RDONLY);
	uint64_t r[2] = { 0, 0 };
	ok(fd >= 0 && read(fd, r, 16) == 16 && (r[0] || r[1]), "/dev/urandom");
	close(fd);
	struct stat st;
	ok(stat("/dev/console", &st) == 0 && S_ISCHR(st.st_mode), "/dev/console is a character device");
	ok(isatty(1) && !isatty(fd), "isatty(1)");
	FAILS(lseek(1, 0, SEEK_SET), ESPIPE);
	fd = open("/dev/console", O_WRONLY);
	ok(fd >= 0 && write(fd, "# console\n", 10) == 10, "write to /dev/console");
	close(fd);
	DIR *d = opendir("/dev");
	int n = 0;
	while (d && readdir(d))
		n++;
	ok(n >= 7, "/dev lists its devices (%d entries)", n);
	if (d)
		closedir(d);
}

static void
mounts(void)
{
	struct statfs sf;
	struct stat st;

	mkdir("/mnt", 0755);
	WORKS(mount("none", "/mnt", "ramfs", 0, NULL));
	FAILS(mount("none", "/mnt", "nosuchfs", 0, NULL), ENODEV);
	FAILS(mount("none", "/tmp/a", "ramfs", 0, NULL), ENOTDIR);
	ok(statfs("/mnt", &sf) == 0 && sf.f_type == 0x858458f6, "statfs: ramfs magic");
	int fd = open("/mnt/f", O_CREAT | O_RDWR, 0644);
	ok(fd >= 0 && write(fd, "m", 1) == 1, "a file on the new mount");
	struct stat a, b;
	stat("/mnt", &a), stat("/", &b);
	ok(a.st_dev != b.st_dev, "the mount has its own st_dev");
	FAILS(rename("/mnt/f", "/tmp/f"), EXDEV);
	FAILS(rmdir("/mnt"), EBUSY);
	FAILS(umount("/mnt"), EBUSY);
	ok(fstatfs(fd, &sf) == 0 && sf.f_type == 0x858458f6, "fstatfs");
	close(fd);
	ok(stat("/mnt/..", &st) == 0 && st.st_ino == b.st_ino, ".. leaves the mount");
	WORKS(umount("/mnt"));
	FAILS(stat("/mnt/f", &st), ENOENT);
	FAILS(umount("/tmp"), EINVAL);
}

#define WRITERS 4
#define RECORDS 200
#define RECLEN 32

static void *
appender(void *arg)
{
	long id = (long)arg;
	char rec[RECLEN + 1];
	int fd = open("/tmp/log", O_WRONLY | O_APPEND | O_CREAT, 0644);

	for (int i = 0; i < RECORDS; i++) {
		snprintf(rec, sizeof(rec), "writer %ld record %04d...........\n", id, i);
		if (write(fd, rec, RECLEN) != RECLEN)
			return (void *)1;
		if (i % 16 == 0)
			sched_yield();
	}
	close(fd);
	return NULL;
}

static void
threads_append(void)
{
	pthread_t t[WRITERS];
	int bad = 0;

	for (long i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, appender, (void *)i);
	for (int i = 0; i < WRITERS; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= r != NULL;
	}
	struct stat st;
	ok(!bad && stat("/tmp/log", &st) == 0 && st.st_size == WRITERS * RECORDS * RECLEN,
	   "%d threads appending: size %lld", WRITERS, (long long)st.st_size);
	FILE *f = fopen("/tmp/log", "r");
	char line[64];
	int next[WRITERS] = { 0 }, good = 1;
	while (f && fgets(line, sizeof(line), f)) {
		int id, n;
		if (strlen(line) != RECLEN || sscanf(line, "writer %d record %d", &id, &n) != 2 ||
		    id < 0 || id >= WRITERS || n != next[id]++)
			good = 0;
	}
	for (int i = 0; i < WRITERS; i++)
		good &= next[i] == RECORDS;
	ok(good, "every record whole, each writer's in order");
	if (f)
		fclose(f);
}

static void
big_file(void)
{
	size_t size = 3 << 20;
	unsigned char *buf = malloc(size), *back = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	int fd = open("/tmp/big", O_CREAT | O_RDWR | O_TRUNC, 0644);
	ssize_t w = 0;
	for (size_t at = 0; at < size; at += 65536)
		w += write(fd, buf + at, 65536);
	ok(w == (ssize_t)size && pread(fd, back, size, 0) == (ssize_t)size &&
	   !memcmp(buf, back, size), "3 MiB written in 64 KiB pieces reads back");
	close(fd);
	WORKS(unlink("/tmp/big"));
	free(buf);
	free(back);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "cksum"))
		return initrd_mode(argc, argv);
	basic_io();
	directories();
	descriptors();
	stdio_and_dirent();
	devices();
	mounts();
	threads_append();
	big_file();
	return tap_end();
}
