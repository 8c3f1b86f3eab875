/*
 * The Linux system-call layer: musl's `syscall` instructions land in
 * syscall_dispatch(), which calls thin adapters onto the subsystems.
 * Numbers and structures are Linux x86_64's (from musl's headers).
 */
#ifndef TORO_SYSCALL_H
#define TORO_SYSCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Built by entry.S from the registers, number first. */
struct syscall_args {
	long nr;
	long a[6];		/* rdi, rsi, rdx, r10, r8, r9 */
};

/*
 * The whole frame entry.S saves on the thread's kernel stack: the
 * arguments, the other registers the caller expects back, and the iretq
 * frame.  clone() copies it for the child.
 */
struct syscall_frame {
	struct syscall_args args;
	uint64_t r15, r14, r13, r12, rbx, rbp;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef long (*syscall_fn)(long, long, long, long, long, long);

long syscall_dispatch(const struct syscall_args *args);
/* Name of a Linux x86_64 system call, or NULL (generated table). */
const char *syscall_name(long nr);

/* True when the application may hand the kernel [p, p+len). */
bool user_ok(const void *p, size_t len);
struct iovec;
/*
 * Checks an iovec array from the application (the array and every
 * buffer in it): the total length, -EINVAL for more than IOV_MAX entries
 * or a total that overflows, -EFAULT for memory it may not hand over.
 */
long user_iov_total(const struct iovec *iov, long cnt);

long sys_read(long fd, long buf, long len, long, long, long);
long sys_write(long fd, long buf, long len, long, long, long);
long sys_writev(long fd, long iov, long cnt, long, long, long);
long sys_readv(long fd, long iov, long cnt, long, long, long);
long sys_ioctl(long fd, long req, long arg, long, long, long);
long sys_lseek(long fd, long off, long whence, long, long, long);
long sys_close(long fd, long, long, long, long, long);
long sys_fcntl(long fd, long cmd, long arg, long, long, long);
/* sys_file.c */
long sys_pread64(long fd, long buf, long len, long off, long, long);
long sys_pwrite64(long fd, long buf, long len, long off, long, long);
long sys_sendfile(long out_fd, long in_fd, long offp, long count, long, long);
long sys_preadv(long fd, long iov, long cnt, long off, long, long);
long sys_pwritev(long fd, long iov, long cnt, long off, long, long);
long sys_dup(long fd, long, long, long, long, long);
long sys_dup2(long oldfd, long newfd, long, long, long, long);
long sys_dup3(long oldfd, long newfd, long flags, long, long, long);
long sys_fstat(long fd, long st, long, long, long, long);
long sys_getdents64(long fd, long buf, long len, long, long, long);
long sys_fsync(long fd, long, long, long, long, long);
long sys_ftruncate(long fd, long len, long, long, long, long);
long sys_fchdir(long fd, long, long, long, long, long);
long sys_fstatfs(long fd, long st, long, long, long, long);
/* sys_path.c */
long sys_open(long path, long flags, long mode, long, long, long);
long sys_openat(long dirfd, long path, long flags, long mode, long, long);
long sys_creat(long path, long mode, long, long, long, long);
long sys_stat(long path, long st, long, long, long, long);
long sys_lstat(long path, long st, long, long, long, long);
long sys_newfstatat(long dirfd, long path, long st, long flags, long, long);
long sys_statx(long dirfd, long path, long flags, long mask, long buf, long);
long sys_mkdir(long path, long mode, long, long, long, long);
long sys_mkdirat(long dirfd, long path, long mode, long, long, long);
long sys_unlink(long path, long, long, long, long, long);
long sys_unlinkat(long dirfd, long path, long flags, long, long, long);
long sys_rmdir(long path, long, long, long, long, long);
long sys_rename(long oldp, long newp, long, long, long, long);
long sys_renameat(long odirfd, long oldp, long ndirfd, long newp, long, long);
long sys_renameat2(long odirfd, long oldp, long ndirfd, long newp, long flags, long);
long sys_symlink(long target, long path, long, long, long, long);
long sys_symlinkat(long target, long dirfd, long path, long, long, long);
long sys_readlink(long path, long buf, long len, long, long, long);
long sys_readlinkat(long dirfd, long path, long buf, long len, long, long);
long sys_access(long path, long mode, long, long, long, long);
long sys_faccessat(long dirfd, long path, long mode, long, long, long);
long sys_faccessat2(long dirfd, long path, long mode, long flags, long, long);
long sys_truncate(long path, long len, long, long, long, long);
long sys_chdir(long path, long, long, long, long, long);
long sys_getcwd(long buf, long size, long, long, long, long);
long sys_mount(long source, long target, long type, long flags, long data, long);
long sys_umount2(long target, long flags, long, long, long, long);
long sys_statfs(long path, long st, long, long, long, long);

long sys_brk(long addr, long, long, long, long, long);
long sys_mmap(long addr, long len, long prot, long flags, long fd, long off);
long sys_munmap(long addr, long len, long, long, long, long);
long sys_mremap(long old, long old_len, long new_len, long flags, long, long);
long sys_mprotect(long addr, long len, long prot, long, long, long);
long sys_madvise(long addr, long len, long advice, long, long, long);

long sys_exit(long status, long, long, long, long, long);
long sys_arch_prctl(long code, long addr, long, long, long, long);
long sys_set_tid_address(long tidptr, long, long, long, long, long);
long sys_getpid(long, long, long, long, long, long);
long sys_getppid(long, long, long, long, long, long);
long sys_getuid(long, long, long, long, long, long);
long sys_uname(long buf, long, long, long, long, long);
/* Boot option tcp.exit_wait=MS (sys_proc.c). */
int tcp_set_exit_wait(const char *v);
long sys_prlimit64(long pid, long resource, long set, long old, long, long);
long sys_getrlimit(long resource, long old, long, long, long, long);
long sys_setrlimit(long resource, long set, long, long, long, long);
long sys_kill(long pid, long sig, long, long, long, long);
long sys_tgkill(long tgid, long tid, long sig, long, long, long);
long sys_rt_sigaction(long sig, long act, long old, long size, long, long);
long sys_rt_sigprocmask(long how, long set, long old, long size, long, long);
long sys_sched_yield(long, long, long, long, long, long);
long sys_sched_getaffinity(long pid, long len, long mask, long, long, long);
long sys_getcpu(long cpu, long node, long cache, long, long, long);

long sys_clock_gettime(long clk, long ts, long, long, long, long);
long sys_clock_getres(long clk, long ts, long, long, long, long);
long sys_gettimeofday(long tv, long tz, long, long, long, long);
long sys_time(long t, long, long, long, long, long);
long sys_nanosleep(long req, long rem, long, long, long, long);
long sys_clock_nanosleep(long clk, long flags, long req, long rem, long, long);

/*
 * The TSC value at which ts (on clock clk, absolute or from now) comes;
 * -EINVAL for a bad clock or timespec.  For timed waits.
 */
struct timespec;
int time_deadline(long clk, const struct timespec *ts, bool absolute,
		  uint64_t *tsc);

long sys_clone(long flags, long stack, long ptid, long ctid, long tls, long);
long sys_exit_group(long status, long, long, long, long, long);
long sys_sync(long, long, long, long, long, long);
long sys_gettid(long, long, long, long, long, long);
long sys_set_robust_list(long head, long len, long, long, long, long);
long sys_futex(long addr, long op, long val, long timeout, long addr2, long val3);
long sys_sched_setaffinity(long pid, long len, long mask, long, long, long);
long sys_tkill(long tid, long sig, long, long, long, long);

long sys_getrandom(long buf, long len, long flags, long, long, long);

/* sys_poll.c */
long sys_poll(long fds, long n, long ms, long, long, long);
long sys_ppoll(long fds, long n, long ts, long mask, long size, long);
long sys_select(long n, long r, long w, long e, long tv, long);
long sys_pselect6(long n, long r, long w, long e, long ts, long sig);
/*
 * Timeouts of the waiting calls as TSC deadlines (lib/fs/poll.h: 0 for
 * ever, POLL_NOWAIT): a timespec (NULL: for ever; -EFAULT, -EINVAL) and
 * milliseconds (negative: for ever).  A signal mask is only checked.
 */
long poll_deadline_ts(const struct timespec *ts, uint64_t *deadline);
uint64_t poll_deadline_ms(long ms);
long poll_sigmask_ok(long mask, long size);
/* sys_epoll.c */
long sys_epoll_create(long size, long, long, long, long, long);
long sys_epoll_create1(long flags, long, long, long, long, long);
long sys_epoll_ctl(long epfd, long op, long fd, long ev, long, long);
long sys_epoll_wait(long epfd, long evs, long max, long ms, long, long);
long sys_epoll_pwait(long epfd, long evs, long max, long ms, long mask, long size);
long sys_epoll_pwait2(long epfd, long evs, long max, long ts, long mask, long size);
long sys_eventfd(long initval, long, long, long, long, long);
long sys_eventfd2(long initval, long flags, long, long, long, long);

/* sys_net.c */
long sys_socket(long domain, long type, long protocol, long, long, long);
long sys_socketpair(long domain, long type, long protocol, long sv, long, long);
long sys_bind(long fd, long addr, long len, long, long, long);
long sys_listen(long fd, long backlog, long, long, long, long);
long sys_accept(long fd, long addr, long len, long, long, long);
long sys_accept4(long fd, long addr, long len, long flags, long, long);
long sys_connect(long fd, long addr, long len, long, long, long);
long sys_sendto(long fd, long buf, long len, long flags, long addr, long alen);
long sys_recvfrom(long fd, long buf, long len, long flags, long addr, long alen);
long sys_sendmsg(long fd, long msg, long flags, long, long, long);
long sys_recvmsg(long fd, long msg, long flags, long, long, long);
long sys_shutdown(long fd, long how, long, long, long, long);
long sys_setsockopt(long fd, long level, long name, long val, long len, long);
long sys_getsockopt(long fd, long level, long name, long val, long len, long);
long sys_getsockname(long fd, long addr, long len, long, long, long);
long sys_getpeername(long fd, long addr, long len, long, long, long);

#endif
