# Helpers shared by the benchmark modules (tests/bench/<name>.sh).
# Source it.  tests/bench/run exports the environment used here:
#   BENCH_SRCDIR  the tests/bench source directory
#   BENCH_TMP     a scratch directory for this module (removed afterwards)
#   BENCH_REPEAT  repetitions per measurement
#   BENCH_TIMER   the stopwatch (bench-timer.c), BENCH_FLOOR the do-nothing image
#   TORO_GCC      x86_64-toro-gcc over the build tree
#   QEMU, STRIP, GRUB_MKRESCUE
#
# A module prints, on standard output, lines of tab-separated fields:
#   row    NAME UNIT BETTER TORO_MIN TORO_MED TORO_MAX REPS BASE_MIN BASE_MED BASE_MAX BASE_REPS NOTE
#   about  TEXT            (a paragraph explaining the module's rows)
#   cmd    LABEL COMMAND   (a command line used, shown under the table)
# BETTER is "lower" or "higher"; "-" marks an empty field.  Progress and
# diagnostics go to standard error.

set -u

# The flags of every boot: toro-run's (without its second serial port,
# which carries the exit status to a file).
BENCH_QEMU_FLAGS="-accel tcg -nodefaults -no-user-config -display none -no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04"
: "${BENCH_MICROVM:=microvm}"	# toro-run's default machine
: "${BENCH_RAM:=64M}"		# toro-run's default -m
: "${BENCH_BOOT_TIMEOUT:=30}"	# seconds for one boot

bench_log() { echo "bench: $*" >&2; }

bench_die() {
	echo "bench: error: $*" >&2
	exit 1
}

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

# bench_row NAME UNIT BETTER "TORO VALUES" "BASELINE VALUES" NOTE
# Either value list may be "-" (none).  A baseline given as "=N" is a fixed
# target rather than a measurement (shown as such, 0 repetitions).
bench_row() {
	if [ "$4" = - ]; then t="- - - 0"; else t=$(bench_stats $4); fi
	case $5 in
	-) b="- - - 0" ;;
	=*) b="${5#=} ${5#=} ${5#=} 0" ;;
	*) b=$(bench_stats $5) ;;
	esac
	set -- "$1" "$2" "$3" $t $b "$6"
	printf 'row\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

bench_about() { printf 'about\t%s\n' "$*"; }
bench_cmd() { printf 'cmd\t%s\t%s\n' "$1" "$2"; }

# Median and minimum of a list of numbers.
bench_median() { bench_stats "$@" | cut -d' ' -f2; }
bench_min() { bench_stats "$@" | cut -d' ' -f1; }

# ns_to_ms NS -> milliseconds with 2 decimals.
ns_to_ms() { awk -v n="$1" 'BEGIN { printf "%.2f\n", n / 1e6 }'; }

# bench_image NAME -> path of tests/bench/NAME.c built into a Toro image
# (once per module), the way an application is built.
bench_image() {
	img=$BENCH_TMP/$1.elf
	if [ ! -f "$img" ]; then
		timeout 120 "$TORO_GCC" -O2 "$BENCH_SRCDIR/$1.c" -o "$img" >&2 ||
			bench_die "cannot build $1.c with $TORO_GCC"
	fi
	echo "$img"
}

# bench_pvh_copy IMAGE -> path of a copy whose multiboot1 header magic is
# zeroed, so that QEMU -kernel boots it through PVH.
bench_pvh_copy() {
	out=${1%.elf}.pvh.elf
	if [ ! -f "$out" ]; then
		# The header is 4-byte aligned within the first 8 KiB.
		off=$(od -A d -t x4 -w4 -v -N 8192 "$1" | awk '$2 == "1badb002" { print $1 + 0; exit }')
		cp "$1" "$out"
		if [ -n "$off" ]; then
			printf '\0\0\0\0' | dd of="$out" bs=1 seek="$off" conv=notrunc 2>/dev/null ||
				bench_die "cannot patch $out"
		fi
	fi
	echo "$out"
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
# to OUTFILE.  A kernel panic or fatal exception stops QEMU at once
# (status 126; QEMU itself only exits with 0, 1 or an odd status).
bench_boot() {
	o=$1 m=$2 t=$3
	shift 3
	"$BENCH_TIMER" -t "$t" -m "$m" -k "toro: panic" -k "toro: fatal" -o "$o" -- \
		"$QEMU" $BENCH_QEMU_FLAGS "$@"
}
