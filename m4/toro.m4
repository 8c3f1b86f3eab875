# Autoconf macros for building Toro.

# TORO_CANONICAL_HOST_FOR_TORO: stock config.sub rejects the OS name "toro",
# so answer the "host system type" check ourselves for x86_64-toro and its
# spellings; AC_CANONICAL_HOST then never runs config.sub on it.
AC_DEFUN([TORO_CANONICAL_HOST_FOR_TORO], [
AS_CASE([$host_alias],
  [x86_64-toro|x86_64-*-toro|x86_64-toro-*|x86_64-*-toro-*],
    [ac_cv_host=x86_64-pc-toro],
  [""], [AC_MSG_ERROR([Toro is cross-built: run ./configure --host=x86_64-toro])])
])

# TORO_NOT_OUR_WRAPPER: with --host=x86_64-toro, AC_PROG_CC takes
# x86_64-toro-gcc from PATH first.  An installed Toro (the toro-dev package,
# make install) puts its own x86_64-toro-gcc there: an application wrapper
# that adds the installed libtoro.a and musl's start files to every link,
# not a compiler for the kernel.  Build with plain gcc then, as without it.
AC_DEFUN([TORO_NOT_OUR_WRAPPER], [
  AS_IF([test -z "$CC" &&
         x86_64-toro-gcc --version 2>/dev/null | sed 1q | grep '(Toro ' >/dev/null],
    [AC_MSG_NOTICE([x86_64-toro-gcc on PATH is an installed Toro's application wrapper: building with gcc])
     CC=gcc])
])

# TORO_CHECK_FLAG(VAR, FLAG): append FLAG to VAR when $CC accepts it.
AC_DEFUN([TORO_CHECK_FLAG], [
  toro_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -Werror $2"
  AC_MSG_CHECKING([whether $CC accepts $2])
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $1="$$1 $2"], [AC_MSG_RESULT([no])])
  CFLAGS=$toro_save_CFLAGS
])

# TORO_CHECK_TARGET_CC: the compiler that builds the kernel and applications
# must target x86_64; say which one we picked.
AC_DEFUN([TORO_CHECK_TARGET_CC], [
  AC_MSG_CHECKING([whether $CC targets x86_64])
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#if !defined(__x86_64__) || !defined(__GNUC__)
#error not an x86_64 GNU C compiler
#endif
]], [])], [AC_MSG_RESULT([yes])], [AC_MSG_RESULT([no])
    AC_MSG_ERROR([$CC does not compile for x86_64.
Toro needs x86_64-toro-gcc on PATH or a native x86_64 GCC or Clang.
On Debian: apt-get install gcc; or pass CC=/path/to/x86_64-gcc])])
  AS_CASE([`basename "$CC" | cut -d' ' -f1`],
    [x86_64-toro-gcc*], [toro_cc_kind="x86_64-toro-gcc (Toro cross compiler)"],
    [toro_cc_kind="$CC (native x86_64 compiler with freestanding flags)"])
  AC_MSG_NOTICE([kernel and application compiler: $toro_cc_kind])
  GCC_INCDIR=`$CC -print-file-name=include`
  AS_IF([test ! -f "$GCC_INCDIR/stdarg.h"],
    [AC_MSG_ERROR([cannot find the compiler's own headers (stdarg.h) at $GCC_INCDIR])])
  AC_SUBST([GCC_INCDIR])
  TORO_KERNEL_CFLAGS="-std=gnu11 -ffreestanding -fno-pie -fno-pic -fno-stack-protector -mno-red-zone -mgeneral-regs-only -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common -Wall -Wextra -Wno-unused-parameter"
  TORO_CHECK_FLAG([TORO_KERNEL_CFLAGS], [-fcf-protection=none])
  TORO_CHECK_FLAG([TORO_KERNEL_CFLAGS], [-fno-stack-clash-protection])
  TORO_CHECK_FLAG([TORO_KERNEL_CFLAGS], [-mno-omit-leaf-frame-pointer])
  AC_SUBST([TORO_KERNEL_CFLAGS])
])

# TORO_KERNEL_FLAGS_LAST: distributions build with hardening flags in
# CFLAGS (Debian's dpkg-buildflags, Fedora's %optflags), and Automake puts
# CFLAGS after a target's own flags, so theirs win.  Some of them break a
# freestanding kernel: -fstack-protector reads its canary at %fs:0x28, but
# %fs belongs to musl and points nowhere until the application's TLS is set
# up, so every image hangs before main (seen with dpkg-buildflags).  Others
# undo what the kernel flags choose on purpose: fixed addresses (no
# PIC/PIE), no red zone, frame pointers for backtraces, no CET or stack
# probes, no LTO.  For each such flag in CFLAGS, append the kernel's
# opposite so that the last word is the kernel's.  Applications are not
# concerned: their flags come from the user (musl supports the stack
# protector).
AC_DEFUN([TORO_KERNEL_FLAGS_LAST], [
  toro_late=
  for toro_f in $CFLAGS; do
    AS_CASE([$toro_f],
      [-fstack-protector*], [toro_fix=-fno-stack-protector],
      [-fPIC|-fpic|-fPIE|-fpie], [toro_fix="-fno-pic -fno-pie"],
      [-fcf-protection|-fcf-protection=*], [toro_fix=-fcf-protection=none],
      [-fstack-clash-protection], [toro_fix=-fno-stack-clash-protection],
      [-fomit-frame-pointer], [toro_fix=-fno-omit-frame-pointer],
      [-momit-leaf-frame-pointer], [toro_fix=-mno-omit-leaf-frame-pointer],
      [-mred-zone], [toro_fix=-mno-red-zone],
      [-flto|-flto=*], [toro_fix=-fno-lto],
      [toro_fix=])
    for toro_g in $toro_fix; do
      # Only flags the compiler took for the kernel (TORO_CHECK_FLAG).
      AS_CASE([" $TORO_KERNEL_CFLAGS -fno-lto "], [*" $toro_g "*], [
        AS_CASE([" $toro_late "], [*" $toro_g "*], [], [toro_late="$toro_late $toro_g"])])
    done
  done
  AS_IF([test -n "$toro_late"], [
    CFLAGS="$CFLAGS$toro_late"
    AC_MSG_NOTICE([CFLAGS asks for code the kernel cannot run; appended:$toro_late])])
])

# TORO_CHECK_BUILD_CC: host programs (unit tests, tools) need a hosted
# compiler for the build machine.
AC_DEFUN([TORO_CHECK_BUILD_CC], [
  AC_ARG_VAR([CC_FOR_BUILD], [C compiler for programs that run on the build machine])
  AS_IF([test -z "$CC_FOR_BUILD"], [
    AS_CASE([`basename "$CC" | cut -d' ' -f1`],
      [x86_64-toro-*], [CC_FOR_BUILD=cc],
      [CC_FOR_BUILD=$CC])])
  AC_MSG_CHECKING([whether $CC_FOR_BUILD builds and runs host programs])
  cat > conftest_build.c <<_TORO_EOF
#include <stdio.h>
int main(void) { return puts("ok") < 0; }
_TORO_EOF
  AS_IF([$CC_FOR_BUILD conftest_build.c -o conftest_build$BUILD_EXEEXT >&AS_MESSAGE_LOG_FD 2>&1 && ./conftest_build$BUILD_EXEEXT >/dev/null],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([no working compiler for the build machine; set CC_FOR_BUILD])])
  AC_MSG_CHECKING([whether $CC_FOR_BUILD supports -fsanitize=address,undefined])
  AS_IF([$CC_FOR_BUILD -fsanitize=address,undefined conftest_build.c -o conftest_build$BUILD_EXEEXT >&AS_MESSAGE_LOG_FD 2>&1 && ./conftest_build$BUILD_EXEEXT >/dev/null],
    [toro_have_san=yes], [toro_have_san=no])
  AC_MSG_RESULT([$toro_have_san])
  dnl The lock-free rings and the per-core heaps are also tested under
  dnl ThreadSanitizer, with real host threads playing the cores.
  cat > conftest_build.c <<_TORO_EOF
#include <pthread.h>
static int v;
static void *run(void *p) { __atomic_store_n(&v, 1, __ATOMIC_RELEASE); return p; }
int main(void) { pthread_t t; if (pthread_create(&t, 0, run, 0)) return 1; pthread_join(t, 0); return __atomic_load_n(&v, __ATOMIC_ACQUIRE) != 1; }
_TORO_EOF
  AC_MSG_CHECKING([whether $CC_FOR_BUILD supports -fsanitize=thread])
  AS_IF([$CC_FOR_BUILD -fsanitize=thread conftest_build.c -o conftest_build$BUILD_EXEEXT -lpthread >&AS_MESSAGE_LOG_FD 2>&1 && ./conftest_build$BUILD_EXEEXT >/dev/null 2>&1],
    [toro_have_tsan=yes], [toro_have_tsan=no])
  AC_MSG_RESULT([$toro_have_tsan])
  rm -f conftest_build.c conftest_build$BUILD_EXEEXT
  AM_CONDITIONAL([HAVE_SANITIZERS], [test $toro_have_san = yes])
  AM_CONDITIONAL([HAVE_TSAN], [test $toro_have_tsan = yes])
])

# TORO_CHECK_MUSL: applications link statically against musl (Debian musl-dev).
AC_DEFUN([TORO_CHECK_MUSL], [
  AC_ARG_WITH([musl-include],
    [AS_HELP_STRING([--with-musl-include=DIR], [musl headers @<:@/usr/include/x86_64-linux-musl@:>@])],
    [MUSL_INCDIR=$withval], [MUSL_INCDIR=/usr/include/x86_64-linux-musl])
  AC_ARG_WITH([musl-lib],
    [AS_HELP_STRING([--with-musl-lib=DIR], [musl crt1.o and libc.a @<:@/usr/lib/x86_64-linux-musl@:>@])],
    [MUSL_LIBDIR=$withval], [MUSL_LIBDIR=/usr/lib/x86_64-linux-musl])
  AC_MSG_CHECKING([for musl headers and libc.a])
  AS_IF([test -f "$MUSL_INCDIR/stdio.h" && test -f "$MUSL_LIBDIR/libc.a" && test -f "$MUSL_LIBDIR/crt1.o"],
    [AC_MSG_RESULT([$MUSL_INCDIR, $MUSL_LIBDIR])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([musl not found ($MUSL_INCDIR/stdio.h, $MUSL_LIBDIR/libc.a).
Install it with: apt-get install musl-dev
or point --with-musl-include=DIR and --with-musl-lib=DIR at another musl.])])
  AC_SUBST([MUSL_INCDIR])
  AC_SUBST([MUSL_LIBDIR])
  AC_PATH_PROG([MUSL_GCC], [musl-gcc], [])
])

# TORO_CHECK_BINUTILS: the link wrapper needs the real linker, nm and as.
AC_DEFUN([TORO_CHECK_BINUTILS], [
  AC_CHECK_TOOL([NM], [nm], [no])
  AC_CHECK_TOOL([STRIP], [strip], [no])
  AC_CHECK_TOOL([OBJCOPY], [objcopy], [no])
  AS_IF([test "x$NM" = xno || test "x$STRIP" = xno], [AC_MSG_ERROR([GNU binutils (nm, strip) not found: apt-get install binutils])])
  AC_MSG_CHECKING([for the linker $CC uses])
  TORO_REAL_LD=`$CC -print-prog-name=ld`
  AS_CASE([$TORO_REAL_LD], [/*], [], [TORO_REAL_LD=`command -v "$TORO_REAL_LD"`])
  AC_MSG_RESULT([$TORO_REAL_LD])
  AS_IF([test ! -x "$TORO_REAL_LD"], [AC_MSG_ERROR([cannot find the linker of $CC])])
  AC_SUBST([TORO_REAL_LD])
  TORO_REAL_AS=`$CC -print-prog-name=as`
  AS_CASE([$TORO_REAL_AS], [/*], [], [TORO_REAL_AS=`command -v "$TORO_REAL_AS"`])
  AS_IF([test ! -x "$TORO_REAL_AS"], [AC_MSG_ERROR([cannot find the assembler of $CC])])
  AC_SUBST([TORO_REAL_AS])
  NM_PATH=`command -v $NM`
  AC_SUBST([NM_PATH])
])

# TORO_CHECK_RUNTIME_TOOLS: optional tools that boot or package images.
AC_DEFUN([TORO_CHECK_RUNTIME_TOOLS], [
  AC_PATH_PROG([QEMU], [qemu-system-x86_64], [])
  AC_PATH_PROG([GRUB_MKRESCUE], [grub-mkrescue], [])
  AC_PATH_PROG([XORRISO], [xorriso], [])
  AC_PATH_PROG([MFORMAT], [mformat], [])
  AC_MSG_CHECKING([for GRUB BIOS modules])
  AS_IF([test -f /usr/lib/grub/i386-pc/multiboot2.mod], [have_grub_pc=yes], [have_grub_pc=no])
  AC_MSG_RESULT([$have_grub_pc])
  AC_MSG_CHECKING([for GRUB UEFI modules])
  AS_IF([test -f /usr/lib/grub/x86_64-efi/multiboot2.mod], [have_grub_efi=yes], [have_grub_efi=no])
  AC_MSG_RESULT([$have_grub_efi])
  AC_MSG_CHECKING([for OVMF])
  OVMF=
  for f in /usr/share/ovmf/OVMF.fd /usr/share/OVMF/OVMF_CODE.fd /usr/share/qemu/OVMF.fd; do
    AS_IF([test -f "$f"], [OVMF=$f; break])
  done
  AC_MSG_RESULT([${OVMF:-no}])
  AC_SUBST([OVMF])
])

# TORO_CHECK_LIBDW: toro-prof (tools/toro-prof) is a host program that
# symbolises through elfutils.  It is optional: without libdw and libelf
# configure says so and the rest of Toro builds as before.
AC_DEFUN([TORO_CHECK_LIBDW], [
  AC_ARG_VAR([LIBDW_CFLAGS], [C compiler flags for libdw and libelf (host, for toro-prof)])
  AC_ARG_VAR([LIBDW_LIBS], [linker flags for libdw and libelf (host, for toro-prof)])
  AS_IF([test -z "$LIBDW_LIBS"], [
    dnl pkg-config for the build machine: these libraries run on it.
    AS_IF([pkg-config --exists libdw libelf 2>/dev/null], [
      LIBDW_CFLAGS=`pkg-config --cflags libdw libelf`
      LIBDW_LIBS=`pkg-config --libs libdw libelf`],
      [LIBDW_LIBS="-ldw -lelf"])])
  AC_MSG_CHECKING([whether $CC_FOR_BUILD links libdw and libelf (for toro-prof)])
  cat > conftest_dw.c <<_TORO_EOF
#include <elfutils/libdwfl.h>
#include <gelf.h>
int main(void) { Dwfl *d = dwfl_begin(0); (void)elf_version(EV_CURRENT); dwfl_end(d); return 0; }
_TORO_EOF
  AS_IF([$CC_FOR_BUILD $LIBDW_CFLAGS conftest_dw.c -o conftest_dw$BUILD_EXEEXT $LIBDW_LIBS >&AS_MESSAGE_LOG_FD 2>&1],
    [have_libdw=yes], [have_libdw=no])
  rm -f conftest_dw.c conftest_dw$BUILD_EXEEXT
  AC_MSG_RESULT([$have_libdw])
  AC_SUBST([LIBDW_CFLAGS])
  AC_SUBST([LIBDW_LIBS])
  AM_CONDITIONAL([HAVE_LIBDW], [test $have_libdw = yes])
])

AC_DEFUN([TORO_REPORT], [
  toro_missing=
  AS_IF([test -z "$QEMU"], [toro_missing="$toro_missing
    QEMU (qemu-system-x86): toro-run and the guest tests cannot boot images"])
  AS_IF([test -z "$GRUB_MKRESCUE" || test $have_grub_pc = no], [toro_missing="$toro_missing
    GRUB (grub-common, grub-pc-bin): toro-mkiso cannot make BIOS ISOs"])
  AS_IF([test $have_grub_efi = no], [toro_missing="$toro_missing
    GRUB UEFI (grub-efi-amd64-bin): ISOs will not boot under UEFI"])
  AS_IF([test -z "$XORRISO"], [toro_missing="$toro_missing
    xorriso: toro-mkiso cannot write ISO images"])
  AS_IF([test -z "$MFORMAT"], [toro_missing="$toro_missing
    mtools: toro-mkiso cannot add the UEFI boot partition"])
  AS_IF([test -z "$OVMF"], [toro_missing="$toro_missing
    OVMF (ovmf): toro-run --uefi cannot boot"])
  AS_IF([test "$have_libdw" != yes], [toro_missing="$toro_missing
    libdw and libelf (libdw-dev, libelf-dev): toro-prof is not built"])
  cat <<_TORO_EOF

Toro $PACKAGE_VERSION configured for $host
  compiler:      $toro_cc_kind
  host compiler: $CC_FOR_BUILD (unit tests, tools)
  musl:          $MUSL_INCDIR, $MUSL_LIBDIR
  prefix:        $prefix
  QEMU:          ${QEMU:-not found}
  GRUB:          ${GRUB_MKRESCUE:-not found} (BIOS: $have_grub_pc, UEFI: $have_grub_efi)
  xorriso:       ${XORRISO:-not found}
  mtools:        ${MFORMAT:-not found}
  OVMF:          ${OVMF:-not found}
  toro-prof:     $have_libdw (needs libdw, libelf)
_TORO_EOF
  AS_IF([test -n "$toro_missing"], [
    echo "  unavailable without optional tools (tests needing them are skipped):$toro_missing"])
  echo
])
