# Benchmark module "entry": guest time from the kernel's first instruction
# to main(), under -icount (deterministic).
. "$BENCH_SRCDIR/lib.sh"

icount="-icount shift=0,sleep=off"

clock=$(bench_image clock)
clock_pvh=$(bench_pvh_copy "$clock")

# measure LABEL QEMU-ARGS: REPEAT boots; one row.
measure() {
	label=$1 args=$2
	bench_log "entry: $label"
	vals= ticks= first= same=0
	i=0
	while [ $i -lt "$BENCH_REPEAT" ]; do
		out=$BENCH_TMP/clock.out
		set -- $(bench_boot "$out" monotonic_ns "$BENCH_BOOT_TIMEOUT" $args)
		ns=$(awk '$1 == "monotonic_ns" { print $2; exit }' "$out")
		tk=$(awk '$1 == "tsc_ticks" { print $2; exit }' "$out")
		if [ "$4" != 1 ] || [ -z "$ns" ]; then
			sed 's/^/  | /' "$out" >&2
			bench_die "entry $label: QEMU status $4, output above"
		fi
		[ -n "$first" ] || first=$ns
		[ "$ns" = "$first" ] && same=$((same + 1))
		vals="$vals $(awk -v n="$ns" 'BEGIN { printf "%.3f", n / 1e3 }')"
		[ -n "$tk" ] && ticks=$tk
		i=$((i + 1))
	done
	note="identical in $same/$BENCH_REPEAT runs"
	if [ -n "$ticks" ]; then
		# Under icount shift=0 one TSC tick is one virtual nanosecond.
		note="$note; raw TSC since entry $(awk -v n="$ticks" 'BEGIN { printf "%.3f", n / 1e3 }') µs"
		if awk -v a="$first" -v b="$ticks" 'BEGIN { d = a - b; exit !(d > b / 100 + 1000 || -d > b / 100 + 1000) }'; then
			note="$note: CLOCK_MONOTONIC disagrees with the TSC (calibration)"
		fi
	fi
	bench_row "entry->main: $label, icount" µs lower "$vals" - "$note"
	bench_cmd "entry->main: $label" "$QEMU $BENCH_QEMU_FLAGS $args"
}

bench_about "**entry->main**: guest time from the kernel's first instruction to main(), as main() reads it from clock_gettime(CLOCK_MONOTONIC) first thing (tests/bench/clock.c), under \`-icount shift=0,sleep=off\` (one guest instruction = 1 ns of virtual time, so the figure is deterministic and roughly counts instructions, firmware excluded). It depends on \`-m\` (the rows use \`-m $BENCH_RAM\`), since the kernel initialises its memory page by page. The note checks that every run gave the same value and compares it with the raw TSC ticks since the kernel's entry (\`boot_tsc\`), which under icount are virtual nanoseconds. No baseline."

measure "$BENCH_MICROVM, PVH" "-M $BENCH_MICROVM -m $BENCH_RAM $icount -kernel $clock_pvh"
measure "pc, multiboot1" "-M pc -m $BENCH_RAM $icount -kernel $clock"
