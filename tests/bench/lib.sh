# Helpers shared by the benchmark modules (tests/bench/<name>.sh).
# Source it.  tests/bench/run exports the environment used here:
#   BENCH_SRCDIR  the tests/bench source directory
#   BENCH_TMP     a scratch directory for this module (removed afterwards)
#   BENCH_REPEAT  repetitions per measurement
#   BENCH_FAST    "yes" in the fast mode of `make check` (tests/bench/fast.test):
#                 fewer machine types, tiny sizes, coarse searches
#   BENCH_TIMER   the stopwatch (bench-timer.c), BENCH_FLOOR the do-nothing image
#   TORO_GCC      x86_64-toro-gcc over the build tree
#   QEMU, STRIP, GRUB_MKRESCUE
#   MUSL_GCC (or CC and MUSL_LIBDIR): the Linux guest's compiler
#   BENCH_LINUX_*  the Linux guest, set up by bench_linux_setup (below)
#
# A module prints, on standard output, lines of tab-separated fields:
#   row    NAME UNIT BETTER TORO(MIN MED MAX N) LINUX(MIN MED MAX N)
#          REFKIND REF(MIN MED MAX N) NOTE
#   about  TEXT            (a paragraph explaining the module's rows)
#   cmd    LABEL COMMAND   (a command line used, shown under the table)
#   md     TEXT            (a line of Markdown, for a section of the module's
#                          own, e.g. a profile: "## Title", a table...;
#                          printed after the rows' explanations)
# BETTER is "lower" or "higher"; REFKIND is "floor" (a measured do-nothing
# baseline), "target" (a fixed goal) or "-"; "-" marks an empty field.
# Progress and diagnostics go to standard error.

set -u

# The flags of every boot, Toro's and the Linux guest's: toro-run's
# (without its second serial port, which carries the exit status to a
# file).
BENCH_QEMU_FLAGS="-accel tcg -nodefaults -no-user-config -display none -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04"
: "${BENCH_MICROVM:=microvm}"	# toro-run's default machine
# toro-run's default is 64M, but the Linux guest needs about 84 MiB (its
# vmlinux alone occupies 16-74 MiB of physical memory), and both systems
# get the same -m.
: "${BENCH_RAM:=128M}"
: "${BENCH_BOOT_TIMEOUT:=30}"	# seconds for one boot
: "${BENCH_FAST:=}"

# The Linux guest's kernel command line, less tsc_early_khz (which depends
# on the run: the host's TSC, or 1 GHz under -icount shift=0) and the
# program's arguments.  Why each option is there, and which were tried
# and left out: tests/bench/linux-guest.md (in doc/PERFORMANCE.md).
BENCH_LINUX_APPEND="console=ttyS0 quiet panic=-1 cryptomgr.notests tsc=reliable no_timer_check"
BENCH_LINUX_PACKAGES="linux-image-amd64 xz-utils"
BENCH_LINUX_APT="apt-get install -y --no-install-recommends $BENCH_LINUX_PACKAGES"

bench_log() { echo "bench: $*" >&2; }

bench_die() {
	echo "bench: error: $*" >&2
	exit 1
}

bench_fast() { [ "$BENCH_FAST" = yes ]; }

# stats VALUE... -> "MIN MEDIAN MAX COUNT", printed with as many decimals
# as the most precise input.
bench_stats() {
	printf '%s\n' "$@" | sort -g | awk '
		{ v[NR] = $1; d = index($1, ".") ? length($1) - index($1, ".") : 0; if (d > dec) dec = d }
		END {
			if (NR == 0) { print "- - - 0"; exit }
			med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			f = "%." dec "f"
			printf f " " f " " f " %d\n", v[1], med, v[NR], NR
		}'
}

# values_stats VALUES -> stats, or "- - - 0" for "-" or nothing.
bench_values_stats() {
	case ${1:--} in
	-) echo "- - - 0" ;;
	*) bench_stats $1 ;;
	esac
}

# bench_row NAME UNIT BETTER "TORO VALUES" "LINUX VALUES" "REFERENCE" NOTE
# A value list may be "-" (none).  REFERENCE is "-", "=N" for a fixed
# target, or "floor:VALUES" for a do-nothing baseline measured in the run.
bench_row() {
	t=$(bench_values_stats "$4")
	l=$(bench_values_stats "$5")
	case $6 in
	-) r="- - - - 0" ;;
	=*) r="target ${6#=} ${6#=} ${6#=} 0" ;;
	floor:*) r="floor $(bench_values_stats "${6#floor:}")" ;;
	*) bench_die "bench_row: bad reference \"$6\"" ;;
	esac
	set -- "$1" "$2" "$3" $t $l $r "$7"
	printf 'row\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

bench_about() { printf 'about\t%s\n' "$*"; }
bench_cmd() { printf 'cmd\t%s\t%s\n' "$1" "$2"; }
# bench_md [LINE...]: lines of Markdown (none: an empty line); no tabs.
bench_md() {
	[ $# -gt 0 ] || set -- ""
	for l in "$@"; do printf 'md\t%s\n' "$l"; done
}

# Median and minimum of a list of numbers.
bench_median() { bench_stats "$@" | cut -d' ' -f2; }
bench_min() { bench_stats "$@" | cut -d' ' -f1; }

# ns_to_ms NS -> milliseconds with 2 decimals.
ns_to_ms() { awk -v n="$1" 'BEGIN { printf "%.2f\n", n / 1e6 }'; }

# bench_image NAME [pvh] -> path of tests/bench/NAME.c built into a Toro
# image (once per module), the way an application is built.  With "pvh",
# without a usable multiboot1 header (toro_multiboot1_magic=0), so that
# QEMU -kernel boots it through PVH: it prefers multiboot1 when it can.
bench_image() {
	if [ "${2:-}" = pvh ]; then
		img=$BENCH_TMP/$1.pvh.elf
		set -- "$1" -Wl,--defsym=toro_multiboot1_magic=0
	else
		img=$BENCH_TMP/$1.elf
		set -- "$1"
	fi
	if [ ! -f "$img" ]; then
		n=$1
		shift
		timeout 120 "$TORO_GCC" -O2 "$BENCH_SRCDIR/$n.c" "$@" -o "$img" >&2 ||
			bench_die "cannot build $n.c with $TORO_GCC"
	fi
	echo "$img"
}

# bench_iso IMAGE ISO: a GRUB ISO that boots IMAGE through multiboot2 at
# once (the same grub.cfg for Toro and for the do-nothing image).
bench_iso() {
	d=$BENCH_TMP/iso.$$
	rm -rf "$d" && mkdir -p "$d/boot/grub" || bench_die "cannot create $d"
	cp "$1" "$d/boot/image.elf"
	cat > "$d/boot/grub/grub.cfg" <<-'EOF'
	set timeout=0
	set default=0
	menuentry "image" {
		multiboot2 /boot/image.elf
		boot
	}
	EOF
	timeout 300 "$GRUB_MKRESCUE" -o "$2" "$d" > "$BENCH_TMP/mkrescue.log" 2>&1 || {
		cat "$BENCH_TMP/mkrescue.log" >&2
		bench_die "grub-mkrescue failed for $1"
	}
	rm -rf "$d"
}

# bench_boot OUTFILE MARKER TIMEOUT QEMU-ARGS... -> "first_ns marker_ns
# exit_ns status bytes" (see bench-timer.c); the guest's serial output goes
# to OUTFILE.  A kernel panic or fatal exception (Toro's or Linux's) stops
# QEMU at once (status 126; QEMU itself only exits with 0, 1 or an odd
# status).
bench_boot() {
	o=$1 m=$2 t=$3
	shift 3
	"$BENCH_TIMER" -t "$t" -m "$m" -k "toro: panic" -k "toro: fatal" -k "Kernel panic" -o "$o" -- \
		"$QEMU" $BENCH_QEMU_FLAGS "$@"
}

# ------------------------------------------------------------ Linux guest
# The same C program in a Linux guest: Debian's kernel (linux-image-amd64)
# and an initramfs holding only the program, built with musl-gcc -static
# plus linux-init.c, as /init.

# bench_linux_setup: finds the kernel (installing it when allowed), caches
# its uncompressed vmlinux and exports
#   BENCH_LINUX_KERNEL   the packaged kernel (a bzImage: /boot/vmlinuz-*)
#   BENCH_LINUX_BOOT     what QEMU -kernel boots: the cached vmlinux (PVH),
#                        or the bzImage when that cannot be extracted
#   BENCH_LINUX_RELEASE  e.g. "6.1.0-56-amd64 (Debian package 6.1.192-2)"
#   BENCH_TSC_KHZ        the host's TSC frequency, for tsc_early_khz
# or, when the Linux guest cannot run here, BENCH_LINUX_WHY (a message
# saying what to install).  Called once by tests/bench/run.  The
# environment may name the kernel (BENCH_LINUX_KERNEL) or allow the
# install (BENCH_LINUX_INSTALL=yes; CI=true does too, as root).
bench_linux_setup() {
	BENCH_LINUX_WHY= BENCH_LINUX_BOOT= BENCH_LINUX_RELEASE=
	: "${BENCH_LINUX_KERNEL:=}" "${BENCH_CACHE:=${TMPDIR:-/tmp}}"
	export BENCH_LINUX_WHY BENCH_LINUX_BOOT BENCH_LINUX_RELEASE BENCH_LINUX_KERNEL BENCH_TSC_KHZ
	if ! bench_linux_cc_ok; then
		BENCH_LINUX_WHY="no musl-gcc to build the Linux guest's programs: install musl-tools"
		return 1
	fi
	[ -n "$BENCH_LINUX_KERNEL" ] || BENCH_LINUX_KERNEL=$(bench_linux_find_kernel)
	if [ -z "$BENCH_LINUX_KERNEL" ]; then
		bench_linux_install && BENCH_LINUX_KERNEL=$(bench_linux_find_kernel)
		if [ -z "$BENCH_LINUX_KERNEL" ]; then
			BENCH_LINUX_WHY="no Linux kernel in /boot: install Debian's with \`$BENCH_LINUX_APT\` as root (with CI=true or BENCH_LINUX_INSTALL=yes the harness does it), or set BENCH_LINUX_KERNEL=/path/to/vmlinuz"
			return 1
		fi
	fi
	[ -r "$BENCH_LINUX_KERNEL" ] || {
		BENCH_LINUX_WHY="cannot read the Linux kernel $BENCH_LINUX_KERNEL"
		return 1
	}
	rel=${BENCH_LINUX_KERNEL##*/vmlinuz-}
	BENCH_LINUX_RELEASE=$rel
	pkgver=$(dpkg-query -W -f '${Version}' "linux-image-$rel" 2>/dev/null) &&
		BENCH_LINUX_RELEASE="$rel (Debian package linux-image-$rel $pkgver)"
	BENCH_LINUX_BOOT=$(bench_linux_vmlinux "$BENCH_LINUX_KERNEL") || BENCH_LINUX_BOOT=$BENCH_LINUX_KERNEL
	BENCH_TSC_KHZ=$(bench_tsc_khz)
	return 0
}

bench_linux_find_kernel() {
	ls -1 "${BENCH_LINUX_BOOTDIR:-/boot}"/vmlinuz-* 2>/dev/null | sort -V | tail -n 1
}

bench_linux_cc_ok() {
	if [ -n "${MUSL_GCC:-}" ]; then
		command -v "$MUSL_GCC" >/dev/null 2>&1
	else
		[ -n "${MUSL_LIBDIR:-}" ] && [ -f "$MUSL_LIBDIR/musl-gcc.specs" ]
	fi
}

# Installs the kernel package through apt, only as root and only when CI
# is true, BENCH_LINUX_INSTALL=yes or the user says so at a terminal.
bench_linux_install() {
	[ "$(id -u)" -eq 0 ] || return 1
	if [ "${CI:-}" != true ] && [ "${BENCH_LINUX_INSTALL:-}" != yes ]; then
		[ -t 0 ] && [ -t 2 ] || return 1
		printf 'bench: the Linux-guest baseline needs Debian'"'"'s kernel. Run `%s` now? [y/N] ' "$BENCH_LINUX_APT" >&2
		read -r answer || return 1
		case $answer in [yY]*) ;; *) return 1 ;; esac
	fi
	bench_log "installing the Linux guest's kernel: $BENCH_LINUX_APT"
	DEBIAN_FRONTEND=noninteractive timeout 900 $BENCH_LINUX_APT >&2 ||
		{ DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update >&2 &&
		  DEBIAN_FRONTEND=noninteractive timeout 900 $BENCH_LINUX_APT >&2; }
}

# bench_linux_vmlinux BZIMAGE -> the cached uncompressed vmlinux, extracted
# the way the kernel's scripts/extract-vmlinux does (find the XZ stream in
# the bzImage, decompress it) if it carries a PVH note (XEN_ELFNOTE_PHYS32_ENTRY,
# type 18): QEMU -kernel then boots it without decompressing under TCG.
bench_linux_vmlinux() {
	cached=$BENCH_CACHE/vmlinux-${1##*/vmlinuz-}
	if [ -f "$cached" ] && [ ! "$1" -nt "$cached" ]; then
		echo "$cached"
		return 0
	fi
	mkdir -p "$BENCH_CACHE" || return 1
	command -v xz >/dev/null 2>&1 || { bench_log "no xz (xz-utils): booting the compressed kernel"; return 1; }
	for off in $(LC_ALL=C grep -abo "$(printf '\3757zXZ')" "$1" | cut -d: -f1 | head -n 8); do
		tail -c +$((off + 1)) "$1" | xz -dc --single-stream > "$cached.tmp" 2>/dev/null || continue
		if LC_ALL=C readelf -nW "$cached.tmp" 2>/dev/null | grep -Eq 'Xen.*(0x00000012|PHYS32)'; then
			mv "$cached.tmp" "$cached" && echo "$cached" && return 0
		fi
	done
	rm -f "$cached.tmp"
	bench_log "found no uncompressed vmlinux with a PVH note in $1: booting the bzImage (slower)"
	return 1
}

# The host's TSC frequency in kHz: the guest's TSC runs at the host's under
# TCG, and the kernel's own calibration can hang there.
bench_tsc_khz() {
	khz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
	[ -n "$khz" ] || khz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz TSC.*/\1/p' | tail -n 1)
	[ -n "$khz" ] || khz=$(sed -n 's/^cpu MHz[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
	awk -v m="${khz:-0}" 'BEGIN { printf "%d\n", m * 1000 }'
}

bench_linux_ok() { [ -n "${BENCH_LINUX_BOOT:-}" ]; }

# The end of the booted vmlinux's segments in physical memory, in KiB
# rounded up to a MiB: with less RAM it cannot even be loaded.  64 MiB
# for a bzImage.
bench_linux_load_end_kib() {
	LC_ALL=C readelf -lW "$BENCH_LINUX_BOOT" 2>/dev/null | awk '
		function hex(s,   i, n) {
			n = 0; s = tolower(substr(s, 3))
			for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return n
		}
		$1 == "LOAD" { e = hex($4) + hex($6); if (e > end) end = e }
		END { mib = end ? int((end + 1048575) / 1048576) : 64; print mib * 1024 }'
}

# bench_linux_image NAME [-t DIR] [KMOD...] -> path of an initramfs (newc cpio,
# uncompressed) whose /init is tests/bench/NAME.c built with musl-gcc
# -static -O2 -DBENCH_LINUX and linux-init.c; the static /init is beside
# it as NAME.linux.  BENCH_LINUX lets a program do what Toro does by
# itself and Debian's kernel does not (net.c sets its address from ip=).  KMODs are kernel modules the program needs (Debian builds
# virtio, the virtio transports, virtio_blk, the file systems as modules):
# they and what they depend on go into /modules, which linux-init.c loads
# before the program starts (see bench_linux_kmods).  Without KMODs the
# initramfs is what it always was.  With -t DIR, it also holds what DIR
# holds, at its root (other programs, the files they serve).
bench_linux_image() {
	bin=$BENCH_TMP/$1.linux
	cpio=$BENCH_TMP/$1.cpio
	if [ ! -f "$cpio" ]; then
		n=$1
		shift
		tree=
		if [ "${1:-}" = -t ]; then
			tree=$2
			shift 2
		fi
		kos=
		if [ $# -gt 0 ]; then
			kos=$(bench_linux_kmods "$@") || bench_die "the Linux guest's kernel modules: $kos"
		fi
		if [ -n "${MUSL_GCC:-}" ]; then
			set -- "$MUSL_GCC"
		else
			set -- "${CC:-cc}" -specs="$MUSL_LIBDIR/musl-gcc.specs"
		fi
		timeout 120 "$@" -static -O2 -DBENCH_LINUX "$BENCH_SRCDIR/$n.c" "$BENCH_SRCDIR/linux-init.c" -o "$bin" >&2 ||
			bench_die "cannot build $n.c for the Linux guest with $*"
		bench_cpio ${tree:+-t "$tree"} "$bin" $kos > "$cpio" || bench_die "cannot write $cpio"
	fi
	echo "$cpio"
}

# The kernel's modules directory: the Debian package installs the modules
# of /boot/vmlinuz-RELEASE in /lib/modules/RELEASE.
bench_linux_moddir() {
	echo "${BENCH_LINUX_MODDIR:-/lib/modules/${BENCH_LINUX_KERNEL##*/vmlinuz-}}"
}

# bench_linux_kmods MODULE... -> the module files (.ko, uncompressed) of
# the named modules and of everything they depend on, one a line, each
# after the modules it depends on: the order in which to load them.
# modules.dep gives every module's dependencies, transitively, in no
# useful order, so the order comes from a depth-first walk.  Names are
# modprobe's ("virtio_blk"; "-" and "_" are the same).  A .ko.xz or
# .ko.zst (newer Debian kernels) is decompressed into $BENCH_TMP/kmod.
# On failure, prints why (on standard output) and fails.
bench_linux_kmods() {
	md=$(bench_linux_moddir)
	if [ ! -f "$md/modules.dep" ]; then
		echo "no $md/modules.dep (the modules of the kernel $BENCH_LINUX_KERNEL)"
		return 1
	fi
	list=$(awk -v want="$*" '
		function key(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
		function visit(m,   d, i, n) {
			if (m in seen) return
			seen[m] = 1
			if (!(m in file)) { missing = missing " " m; return }
			n = split(deps[m], d, " ")
			for (i = 1; i <= n; i++) visit(key(d[i]))
			print file[m]
		}
		{ sub(/:$/, "", $1); k = key($1); file[k] = $1; $1 = ""; deps[k] = $0 }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) { m = w[i]; gsub(/-/, "_", m); visit(m) }
			if (missing != "") { print "MISSING" missing; exit 1 }
		}' "$md/modules.dep")
	st=$?
	if [ $st -ne 0 ]; then
		echo "no module$(echo "$list" | sed -n 's/^MISSING//p') in $md/modules.dep"
		return 1
	fi
	for f in $list; do
		case $f in
		*.ko) echo "$md/$f" ;;
		*.ko.xz|*.ko.zst)
			mkdir -p "$BENCH_TMP/kmod" || return 1
			k=${f##*/}
			k=$BENCH_TMP/kmod/${k%.*}
			case $f in
			*.xz) xz -dc "$md/$f" > "$k" ;;
			*) zstd -qdc "$md/$f" > "$k" ;;
			esac || { echo "cannot decompress $md/$f"; return 1; }
			echo "$k"
			;;
		*) echo "$md/$f: not a module file this harness knows"; return 1 ;;
		esac
	done
}

# bench_cpio [-t DIR] INIT [KO...]: an initramfs (newc cpio) holding /dev,
# /dev/console (the kernel opens it for /init's standard streams) and INIT
# as /init; with KOs also /modules/NAME.ko for each and /modules/order,
# their names in the order given, one a line (read by linux-init.c); with
# -t DIR also DIR's contents (bench_cpio_tree).
bench_cpio() {
	cpio_ino=0
	if [ "$1" = -t ]; then
		bench_cpio_tree "$2" || return 1
		shift 2
	fi
	bench_cpio_entry dev 040755 0 0 &&
	bench_cpio_entry dev/console 020600 5 1 &&
	bench_cpio_entry init 0100755 0 0 "$1" || return 1
	shift
	if [ $# -gt 0 ]; then
		order=$BENCH_TMP/modules.order
		: > "$order" &&
		bench_cpio_entry modules 040755 0 0 || return 1
		for ko in "$@"; do
			echo "${ko##*/}" >> "$order" &&
			bench_cpio_entry "modules/${ko##*/}" 0100644 0 0 "$ko" || return 1
		done
		bench_cpio_entry modules/order 0100644 0 0 "$order" || return 1
	fi
	bench_cpio_entry 'TRAILER!!!' 0 0 0
}

# bench_cpio_tree DIR: newc records for everything under DIR (directories
# and regular files, modes kept, owned by root), named relative to DIR,
# parents first; no trailer.  Toro's initrds and the Linux guest's extra
# files: no cpio program needed.
bench_cpio_tree() {
	: "${cpio_ino:=0}"
	(cd "$1" && find . -mindepth 1 \( -type d -o -type f \) | LC_ALL=C sort) > "$BENCH_TMP/tree.list" || return 1
	while read -r f; do
		f=${f#./}
		m=$(stat -c %a "$1/$f") || return 1
		m=$(printf %03o $((0$m & 0777)))	# the permission bits alone
		if [ -d "$1/$f" ]; then
			bench_cpio_entry "$f" 040$m 0 0 || return 1
		else
			bench_cpio_entry "$f" 0100$m 0 0 "$1/$f" || return 1
		fi
	done < "$BENCH_TMP/tree.list"
}

# bench_cpio_entry NAME MODE RDEV-MAJOR RDEV-MINOR [FILE]: one newc record
# (a 110-byte ASCII header, the name, the data, each padded to 4 bytes).
bench_cpio_entry() {
	size=0
	[ -n "${5:-}" ] && size=$(wc -c < "$5" | tr -d ' ')
	namesize=$((${#1} + 1))
	cpio_ino=$((cpio_ino + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		$cpio_ino $(($2)) 0 0 1 0 "$size" 0 0 "$3" "$4" $namesize 0 "$1" &&
	head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero || return 1
	if [ -n "${5:-}" ]; then
		cat "$5" && head -c $(((4 - size % 4) % 4)) /dev/zero
	fi
}

# bench_linux_boot OUTFILE MARKER TIMEOUT CPIO KHZ "QEMU ARGS" [PROGRAM ARG...]
# Like bench_boot, for the Linux guest: QEMU ARGS (split on spaces) name
# the machine, -m and so on; KHZ is the TSC frequency for tsc_early_khz.
bench_linux_boot() {
	o=$1 m=$2 t=$3 c=$4 k=$5 q=$6
	shift 6
	bench_boot "$o" "$m" "$t" $q -kernel "$BENCH_LINUX_BOOT" -initrd "$c" \
		-append "$(bench_linux_append "$k" "$@")"
}

# bench_linux_append KHZ [PROGRAM ARG...] -> the kernel command line.
bench_linux_append() {
	k=$1
	shift
	a=$BENCH_LINUX_APPEND
	[ "${k:-0}" -gt 0 ] && a="$a tsc_early_khz=$k"	# 0: the host's is unknown
	[ $# -eq 0 ] || a="$a -- $*"
	echo "$a"
}

# bench_linux_cmd LABEL CPIO KHZ "QEMU ARGS" [PROGRAM ARG...]: a cmd line
# for the Linux guest's boots.
bench_linux_cmd() {
	l=$1 c=$2 k=$3 q=$4
	shift 4
	bench_cmd "$l" "$QEMU $BENCH_QEMU_FLAGS $q -kernel $BENCH_LINUX_BOOT -initrd $c -append '$(bench_linux_append "$k" "$@")'"
}

# Why a Linux column is empty, for a row's note.
bench_linux_missing() { echo "Linux guest not measured: ${BENCH_LINUX_WHY:-unavailable}"; }

# ------------------------------------------------------------ network path
# The path between a host client and a server in the guest, shared by the
# modules that drive one (net, web):
#   tap   (root; the default when `ip netns` works): a network namespace
#         the module creates, holding a tap device; QEMU (-netdev tap) and
#         the host client run inside it (ip netns exec), so nothing outside
#         the namespace sees the traffic.
#   user  (otherwise, or BENCH_NET_PATH=user): QEMU user networking
#         (slirp), the guest's port forwarded from 127.0.0.1.
# The guest gets its address statically from Linux's ip= option on its
# kernel command line on both systems (Toro applies it itself;
# linux-init.c applies it in the Linux guest).
: "${BENCH_NET_PATH:=}"
BENCH_NET_KMODS="virtio_mmio virtio_pci virtio_net"	# the Linux guest's NIC drivers
bench_ns= nsexec= gpid=

# bench_net_path MODULE PORT: chooses the path (BENCH_NET_PATH) for a
# server on the guest's PORT and sets
#   nsexec      "ip netns exec NS" (tap) or "": the prefix of QEMU's and the
#               client's commands
#   ip          the ip= value for both kernel command lines
#   caddr cport where the client connects
#   nic         QEMU's NIC options (the same for Toro and the Linux guest:
#               virtio-net-device, modern interface, one MAC)
#   path_note   a few words for the rows' notes; path_about, a sentence
#   host_addr guest_addr tap (tap only)
# Dies when BENCH_NET_PATH=tap is asked for and impossible.  Call
# bench_net_cleanup (it also stops the guest) on the way out.
bench_net_path() {
	bnp_mod=$1 bnp_port=$2
	tap=tbnet0 host_addr=192.168.76.1 guest_addr=192.168.76.2
	bnp_mac=52:54:00:12:34:56	# one MAC for every guest: the host's ARP entry stays valid
	PATH=$PATH:/usr/sbin:/sbin
	user_why="BENCH_NET_PATH=user"
	if [ -z "$BENCH_NET_PATH" ]; then
		BENCH_NET_PATH=user
		if [ "$(id -u)" -ne 0 ]; then
			user_why="not root, so no tap device"
		elif ! command -v ip >/dev/null 2>&1; then
			user_why="no ip (iproute2), so no tap device"
		elif bench_net_tap "$bnp_mod"; then
			BENCH_NET_PATH=tap
		else
			user_why="could not make a network namespace with a tap device"
			bench_log "$bnp_mod: $user_why ($(tr '\n' ' ' < "$BENCH_TMP/ns.log")): QEMU user networking instead"
		fi
	elif [ "$BENCH_NET_PATH" = tap ]; then
		[ "$(id -u)" -eq 0 ] || bench_die "$bnp_mod: BENCH_NET_PATH=tap needs root (ip netns add, ip tuntap)"
		command -v ip >/dev/null 2>&1 || bench_die "$bnp_mod: BENCH_NET_PATH=tap needs ip (iproute2)"
		bench_net_tap "$bnp_mod" || { cat "$BENCH_TMP/ns.log" >&2; bench_die "$bnp_mod: cannot make the network namespace and its tap device"; }
	elif [ "$BENCH_NET_PATH" != user ]; then
		bench_die "$bnp_mod: BENCH_NET_PATH must be tap or user, not \"$BENCH_NET_PATH\""
	fi
	if [ "$BENCH_NET_PATH" = tap ]; then
		nsexec="ip netns exec $bench_ns"
		ip="$guest_addr::$host_addr:255.255.255.0"
		bnp_netdev="-netdev tap,id=net0,ifname=$tap,script=no,downscript=no"
		caddr=$guest_addr cport=$bnp_port
		path_note="tap device in a network namespace"
		path_about="a tap device ($tap, $host_addr/24) in a network namespace the module creates (\`ip netns add\`, \`ip tuntap add mode tap\`); QEMU (\`-netdev tap\`) and the client run inside it (\`ip netns exec\`), so the peer is the host's own TCP stack, through the tap device, and nothing outside the namespace sees the traffic"
	else
		# slirp: the guest is 10.0.2.15, its port forwarded from 127.0.0.1.
		nsexec=
		ip="10.0.2.15::10.0.2.2:255.255.255.0"
		bnp_hport=${BENCH_NET_HOSTPORT:-$(python3 "$BENCH_SRCDIR/../free-port.py")}
		bnp_netdev="-netdev user,id=net0,hostfwd=tcp:127.0.0.1:$bnp_hport-10.0.2.15:$bnp_port"
		caddr=127.0.0.1 cport=$bnp_hport
		path_note="QEMU user networking ($user_why)"
		path_about="QEMU user networking (slirp; $user_why; as root the module uses a tap device in a network namespace instead): 127.0.0.1:$bnp_hport forwarded to the guest's port $bnp_port (\`hostfwd\`), so every byte also crosses slirp's TCP stack in QEMU"
	fi
	nic="-global virtio-mmio.force-legacy=false $bnp_netdev -device virtio-net-device,netdev=net0,mac=$bnp_mac"
	bench_log "$bnp_mod: network path: $path_note"
}

# bench_net_tap MODULE: the namespace and its tap device; fails (saying
# why in $BENCH_TMP/ns.log) when this host cannot make them.
bench_net_tap() {
	bench_ns=toro-bench-$1-$$
	{
		ip netns add "$bench_ns" &&
		ip -n "$bench_ns" link set lo up &&
		ip netns exec "$bench_ns" ip tuntap add dev "$tap" mode tap &&
		ip -n "$bench_ns" addr add "$host_addr/24" dev "$tap" &&
		ip -n "$bench_ns" link set "$tap" up &&
		[ -c /dev/net/tun ]
	} > "$BENCH_TMP/ns.log" 2>&1 && return 0
	ip netns del "$bench_ns" 2>/dev/null
	bench_ns=
	return 1
}

# bench_net_ns_cmd: the cmd line that makes the namespace (tap only).
bench_net_ns_cmd() {
	bench_cmd "$1: the namespace (once)" "ip netns add NS; ip -n NS link set lo up; ip netns exec NS ip tuntap add dev $tap mode tap; ip -n NS addr add $host_addr/24 dev $tap; ip -n NS link set $tap up"
}

# The guest started in the background (its bench-timer's PID in $gpid).
bench_stop_guest() {
	if [ -n "$gpid" ]; then
		kill -TERM "$gpid" 2>/dev/null
		wait "$gpid" 2>/dev/null
		gpid=
	fi
}

bench_net_cleanup() {
	bench_stop_guest
	[ -z "$bench_ns" ] || ip netns del "$bench_ns" 2>/dev/null
	bench_ns=
}

# bench_show OUTFILE: the end of a guest's output, on standard error.
bench_show() { tr -d '\r' < "$1" | sed 's/^/  | /' | tail -n 40 >&2; }
