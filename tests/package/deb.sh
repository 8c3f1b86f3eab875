#!/bin/bash
# tests/package/deb.sh [TARBALL]: the Debian package, end to end, as a user
# meets it.  From the release tarball (default: the toro-*.tar.gz that
# `make dist` or `make distcheck` left in the top directory) it builds the
# source and binary packages with dpkg-buildpackage, runs lintian (errors
# and warnings fail), installs toro-dev with apt, builds examples/hello
# (pkg-config and x86_64-toro-gcc) and tests/install/autotools-app
# (./configure --host=x86_64-toro) against the installed package and boots
# them with the installed toro-run, then purges the package and checks that
# none of its files is left.
#
# Needs root (or sudo) and the build dependencies in debian/control;
# .ci/run installs them and runs this after `make distcheck`.  It never
# leaves toro-dev installed: it refuses to start if toro-dev is already
# installed (under CI=true it purges it first), and purges it on any exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
pkg=toro-dev
# Wait for another apt or dpkg to finish rather than fail.
apt_get() { $sudo apt-get -o DPkg::Lock::Timeout=600 "$@"; }

say() { printf 'deb.sh: %s\n' "$*"; }
fail() { printf 'deb.sh: FAIL: %s\n' "$*" >&2; exit 1; }
# check DESCRIPTION COMMAND...: run a check, say ok or fail.
check() {
	local what=$1
	shift
	if "$@"; then say "ok - $what"; else fail "$what"; fi
}
# logged FILE COMMAND...: run COMMAND with its output in FILE; on failure
# print the end of the file.
logged() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || { sed 's/^/    /' "$log" | tail -60 >&2; return 1; }
}
installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ]
}
t0=$SECONDS
phase_start=$SECONDS
phase() { say "  ($(($SECONDS - phase_start)) s)"; phase_start=$SECONDS; }

# ------------------------------------------------------------ the tarball
tarball=${1:-}
if [ -z "$tarball" ]; then
	tarball=$(ls -t "$top"/toro-*.tar.gz 2>/dev/null | head -1 || true)
	[ -n "$tarball" ] || fail "no toro-*.tar.gz in $top: run make dist (or make distcheck) first, or name a tarball"
fi
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
base=$(basename "$tarball" .tar.gz)
version=${base#toro-}
say "packaging $tarball (upstream version $version)"

if installed; then
	[ "${CI:-}" = true ] || fail "$pkg is already installed; purge it first (apt-get purge $pkg)"
	say "$pkg is installed (left over from an earlier run?): purging it first"
	apt_get purge -y "$pkg" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/toro-deb.XXXXXX")
we_installed=no
cleanup() {
	local status=$?
	if [ $we_installed = yes ] && installed; then
		say "purging $pkg"
		apt_get purge -y "$pkg" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ build
tar -xzf "$tarball" -C "$work"
src=$work/$base
[ -d "$src/debian" ] || fail "$tarball has no debian/ directory"
# The release tarball is the Debian orig tarball (3.0 (quilt)).
ln -s "$tarball" "$work/toro_$version.orig.tar.gz"
debversion=$(cd "$src" && dpkg-parsechangelog -S Version)
case $debversion in
*:"$version"-*|"$version"-*) ;;
*) fail "debian/changelog says $debversion, the tarball is $version" ;;
esac
(cd "$src" && dpkg-checkbuilddeps) || fail "build dependencies missing (see debian/control)"
say "dpkg-buildpackage -us -uc in $src"
(cd "$src" && logged "$work/build.log" dpkg-buildpackage -us -uc -J"$(nproc)") ||
	fail "dpkg-buildpackage (log above)"
changes=$work/toro_${debversion#*:}_amd64.changes
deb=$work/${pkg}_${debversion#*:}_amd64.deb
check "built $(basename "$deb")" test -f "$deb"
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$work/build.log" | sed 's/^/    make check in the package build: /' || true
phase

# ------------------------------------------------------------ lintian
say "lintian $(basename "$changes")"
# Every tag, overridden ones too (their N: lines say why); E: and W: fail.
# TMPDIR: lintian leaves mldbm-elf-* files behind.
# (--fail-on counts shown overrides as well, so it cannot be used here.)
status=0
TMPDIR=$work lintian --fail-on none --display-info --pedantic --display-experimental --show-overrides \
	"$changes" >"$work/lintian.out" 2>&1 || status=$?
grep -v 'running with root privileges is not recommended' "$work/lintian.out" | sed 's/^/    /' || true
check "lintian ran (status $status)" test $status -eq 0
check "lintian: no errors or warnings" sh -c "! grep -Eq '^[EW]: ' '$work/lintian.out'"
phase

# ------------------------------------------------------------ install
say "apt-get install $deb"
logged "$work/install.log" apt_get install -y "$deb" || fail "apt-get install"
we_installed=yes
check "$pkg is installed" installed
dpkg -L "$pkg" | sort >"$work/files"
say "$(wc -l <"$work/files") paths installed"
for dep in gcc binutils musl-dev qemu-system-x86 xorriso mtools grub-pc-bin; do
	check "$dep is installed with it (Depends or Recommends)" \
		sh -c "dpkg-query -W -f='\${db:Status-Status}' $dep | grep -qx installed"
done
phase

# ------------------------------------------------------------ use it
# A user's environment: no PKG_CONFIG_PATH, no build flags, the system PATH.
env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -euo pipefail -s "$work" "$version" "$src" <<'EOF' || fail "using the installed package (above)"
work=$1 version=$2 src=$3
say() { printf 'deb.sh: %s\n' "$*"; }
check() { local what=$1; shift; if "$@"; then say "ok - $what"; else say "FAIL: $what"; exit 1; fi; }
logged() { local log=$1; shift; "$@" >"$log" 2>&1 || { sed 's/^/    /' "$log" | tail -60 >&2; return 1; }; }

check "pkg-config --modversion toro is $version" test "$(pkg-config --modversion toro)" = "$version"
for tool in x86_64-toro-gcc toro-run toro-mkiso; do
	check "$tool --version says Toro $version" \
		sh -c "$tool --version | head -1 | grep -qF '(Toro $version)'"
	check "man -w $tool finds its manual" sh -c "man -w $tool >/dev/null"
done

# examples/hello as installed in the documentation, with its own Makefile
# (pkg-config), then with the compiler wrapper.
cp -R /usr/share/doc/toro-dev/examples/hello "$work/hello"
check "examples/hello builds with make (pkg-config)" logged "$work/hello.log" make -C "$work/hello"
status=0
toro-run "$work/hello/hello.elf" --timeout 120 -- 1 2.5 >"$work/hello.out" 2>&1 || status=$?
sed 's/^/    | /' "$work/hello.out"
check "hello.elf exits with status 3 (got $status)" test $status -eq 3
check "hello.elf greets" grep -qx 'Hello, world! This is Toro\.' "$work/hello.out"
check "hello.elf sees its arguments" grep -qx '2 arguments, sum 3\.500000' "$work/hello.out"
check "x86_64-toro-gcc builds hello.c" \
	logged "$work/wrapper.log" x86_64-toro-gcc -O2 "$work/hello/hello.c" -o "$work/wrapper.elf"
status=0
toro-run "$work/wrapper.elf" --timeout 120 --iso >"$work/iso.out" 2>&1 || status=$?
check "its GRUB ISO (toro-mkiso) boots on BIOS with status 3 (got $status)" test $status -eq 3
check "and greets" grep -qx 'Hello, world! This is Toro\.' "$work/iso.out"

# An Autotools application: its configure finds x86_64-toro-gcc on PATH.
cp -R "$src/tests/install/autotools-app" "$work/app"
check "tests/install/autotools-app builds with ./configure --host=x86_64-toro" \
	logged "$work/app.log" sh -c "cd '$work/app' && autoreconf -fi && ./configure --host=x86_64-toro && make"
check "its configure picked x86_64-toro-gcc" \
	grep -q 'checking for x86_64-toro-gcc... x86_64-toro-gcc' "$work/app.log"
status=0
toro-run "$work/app/app" --timeout 120 >"$work/app.out" 2>&1 || status=$?
sed 's/^/    | /' "$work/app.out"
check "the Autotools app exits with status 5 (got $status)" test $status -eq 5
check "it prints 'autotools app on Toro $version'" grep -qxF "autotools app on Toro $version" "$work/app.out"
EOF
phase

# ------------------------------------------------------------ purge
say "apt-get purge $pkg"
logged "$work/purge.log" apt_get purge -y "$pkg" || fail "apt-get purge"
check "$pkg is no longer installed" sh -c "! dpkg-query -W -f='\${db:Status-Status}' $pkg 2>/dev/null | grep -qx installed"
left=
while IFS= read -r path; do
	if [ -d "$path" ] && [ ! -L "$path" ]; then
		# Shared directories (/usr/bin, ...) stay; the package's own go.
		case $path in *toro*) left="$left $path" ;; esac
	elif [ -e "$path" ] || [ -L "$path" ]; then
		left="$left $path"
	fi
done <"$work/files"
check "nothing of $pkg is left (${left:-nothing})" test -z "$left"
phase
say "done in $((SECONDS - t0)) s"
