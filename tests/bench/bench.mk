# make bench: Toro against the same programs in a Linux guest and against
# floors and targets, measured in the same run (see tests/bench/run and
# doc/PERFORMANCE.md, which it rewrites).
#
#   make bench                      every benchmark, 5 repetitions
#   make bench BENCH=boot,size      a subset (modules tests/bench/NAME.sh)
#   make bench BENCH_REPEAT=10
#
# The Linux guest needs Debian's kernel (linux-image-amd64): as root with
# CI=true or BENCH_LINUX_INSTALL=yes, or when the user agrees at the
# terminal, the harness installs it with apt-get; otherwise it says what to
# install and leaves the Linux column empty.  Its uncompressed vmlinux is
# cached in tests/bench/cache.  `make check` runs the harness once in its
# fast mode (tests/bench/fast.test); nothing here runs at `make all` time.
# The stopwatch and the do-nothing guest are host programs, built with the
# build compiler and the host assembler/linker.

BENCH =
BENCH_REPEAT = 5
BENCH_AS = as
BENCH_LD = ld

BENCH_FILES = \
	tests/bench/run tests/bench/lib.sh tests/bench/format.awk \
	tests/bench/size.sh tests/bench/boot.sh tests/bench/entry.sh tests/bench/mem.sh \
	tests/bench/micro.sh tests/bench/hello.c tests/bench/clock.c tests/bench/micro.c \
	tests/bench/threads.sh tests/bench/threads.c \
	tests/bench/storage.sh tests/bench/storage.c \
	tests/bench/net.sh tests/bench/net.c tests/bench/bench-netclient.c \
	tests/bench/web.sh tests/bench/linux-exec.c \
	tests/bench/prof.sh \
	tests/bench/linux-init.c tests/bench/linux-guest.md tests/bench/fast.test \
	tests/bench/bench-timer.c tests/bench/floor.s tests/bench/floor.ld
EXTRA_DIST += $(BENCH_FILES) doc/PERFORMANCE.md

tests/bench/bench-timer: $(srcdir)/tests/bench/bench-timer.c
	$(AM_V_GEN)$(MKDIR_P) tests/bench && \
	$(CC_FOR_BUILD) $(CPPFLAGS_FOR_BUILD) $(CFLAGS_FOR_BUILD) -O2 -Wall \
	  $(LDFLAGS_FOR_BUILD) -o $@ $(srcdir)/tests/bench/bench-timer.c

# The net module's host side: the client that drives the guest's server.
tests/bench/bench-netclient: $(srcdir)/tests/bench/bench-netclient.c
	$(AM_V_GEN)$(MKDIR_P) tests/bench && \
	$(CC_FOR_BUILD) $(CPPFLAGS_FOR_BUILD) $(CFLAGS_FOR_BUILD) -O2 -Wall \
	  $(LDFLAGS_FOR_BUILD) -o $@ $(srcdir)/tests/bench/bench-netclient.c

# The floor has no multiboot1 header, so QEMU -kernel boots it through PVH.
tests/bench/floor.elf: $(srcdir)/tests/bench/floor.s $(srcdir)/tests/bench/floor.ld
	$(AM_V_GEN)$(MKDIR_P) tests/bench && \
	$(BENCH_AS) --64 -o tests/bench/floor.o $(srcdir)/tests/bench/floor.s && \
	$(BENCH_LD) -m elf_x86_64 -T $(srcdir)/tests/bench/floor.ld -o $@ tests/bench/floor.o && \
	rm -f tests/bench/floor.o

CLEANFILES += tests/bench/bench-timer tests/bench/bench-netclient tests/bench/floor.elf tests/bench/floor.o \
	tests/bench/cache/vmlinux-* tests/bench/cache/*.tmp
# tests/bench/fast.test (make check) boots with these.
check_SCRIPTS += tests/bench/bench-timer tests/bench/bench-netclient tests/bench/floor.elf

bench: all tests/bench/bench-timer tests/bench/bench-netclient tests/bench/floor.elf
	@TORO_GCC='$(abs_builddir)/tests/x86_64-toro-gcc' QEMU='$(QEMU)' TORO_VERSION='$(PACKAGE_VERSION)' \
	STRIP='$(STRIP)' GRUB_MKRESCUE='$(GRUB_MKRESCUE)' \
	BENCH_TIMER='$(abs_builddir)/tests/bench/bench-timer' \
	BENCH_FLOOR='$(abs_builddir)/tests/bench/floor.elf' \
	BENCH_NETCLIENT='$(abs_builddir)/tests/bench/bench-netclient' \
	BENCH_CACHE='$(abs_builddir)/tests/bench/cache' \
	MUSL_GCC='$(MUSL_GCC)' MUSL_LIBDIR='$(MUSL_LIBDIR)' CC='$(CC)' \
	$(SHELL) $(srcdir)/tests/bench/run --repeat '$(BENCH_REPEAT)' \
	  --output '$(srcdir)/doc/PERFORMANCE.md' \
	  --from-make \
	  $(BENCH)

.PHONY: bench
