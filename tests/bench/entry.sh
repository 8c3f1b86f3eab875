# Benchmark module "entry": guest time to main() under -icount
# (deterministic): from the kernel's first instruction (Toro), and from the
# start of the virtual machine (Toro and the Linux guest).
. "$BENCH_SRCDIR/lib.sh"

icount="-icount shift=0,sleep=off"
# Under icount shift=0 the guest's TSC runs at 1 GHz, whatever the host's.
icount_khz=1000000

clock=$(bench_image clock)
clock_pvh=$(bench_image clock pvh)
lcpio=
bench_linux_ok && lcpio=$(bench_linux_image clock)

# field NAME FILE: the value of "RESULT NAME value unit" in the guest's
# output.
field() { tr -d '\r' < "$2" | awk -v n="$1" '$1 == "RESULT" && $2 == n { print $3; exit }'; }

# same VALUES: "identical in K/N runs".
same() {
	echo $1 | tr ' ' '\n' | sort | uniq -c | sort -rn |
		awk -v n="$(echo $1 | wc -w)" 'NR == 1 { printf "identical in %d/%d runs", $1, n }'
}

# us NS -> microseconds with 3 decimals.
us() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e3 }'; }

# measure LABEL "TORO QEMU ARGS" "LINUX QEMU ARGS": REPEAT boots of each;
# two rows.
measure() {
	label=$1 targs=$2 largs=$3
	bench_log "entry: $label"
	ent= raw= lraw= ticks=
	i=0
	while [ $i -lt "$BENCH_REPEAT" ]; do
		out=$BENCH_TMP/clock.out
		set -- $(bench_boot "$out" RESULT "$BENCH_BOOT_TIMEOUT" $targs)
		ns=$(field monotonic "$out") r=$(field tsc "$out") tk=$(field tsc_since_entry "$out")
		if [ "$4" != 1 ] || [ -z "$ns" ] || [ -z "$r" ]; then
			sed 's/^/  | /' "$out" >&2
			bench_die "entry $label (Toro): QEMU status $4, output above"
		fi
		ent="$ent $(us "$ns")" raw="$raw $(us "$r")"
		[ -n "$tk" ] && ticks=$tk first=$ns
		if [ -n "$lcpio" ]; then
			out=$BENCH_TMP/clock.linux.out
			set -- $(bench_linux_boot "$out" RESULT "$BENCH_BOOT_TIMEOUT" "$lcpio" $icount_khz "$largs $icount")
			r=$(field tsc "$out")
			if [ "$4" != 1 ] || [ -z "$r" ]; then
				sed 's/^/  | /' "$out" | tail -n 40 >&2
				bench_die "entry $label (Linux guest): QEMU status $4, output above"
			fi
			lraw="$lraw $(us "$r")"
		fi
		i=$((i + 1))
	done
	note="$(same "$ent")"
	if [ -n "$ticks" ]; then
		# Under icount shift=0 one TSC tick is one virtual nanosecond.
		note="$note; raw TSC since entry $(us "$ticks") µs"
		if awk -v a="$first" -v b="$ticks" 'BEGIN { d = a - b; exit !(d > b / 100 + 1000 || -d > b / 100 + 1000) }'; then
			note="$note: CLOCK_MONOTONIC disagrees with the TSC (calibration)"
		fi
	fi
	bench_row "entry->main: $label, icount" µs lower "$ent" - - "$note"
	note="Toro $(same "$raw")"
	if [ -n "$lraw" ]; then
		note="$note, Linux guest $(same "$lraw")"
	else
		note="$note; $(bench_linux_missing)"
	fi
	bench_row "VM start->main: $label, icount" µs lower "$raw" "${lraw:--}" - "$note"
	bench_cmd "entry->main: $label (Toro)" "$QEMU $BENCH_QEMU_FLAGS $targs"
	[ -n "$lcpio" ] && bench_linux_cmd "VM start->main: $label (Linux guest)" "$lcpio" $icount_khz "$largs $icount"
}

bench_about "**entry->main** and **VM start->main**: guest time to main(), which prints it first thing (tests/bench/clock.c), under \`-icount shift=0,sleep=off\`: one guest instruction is 1 ns of virtual time and the guest's TSC counts it, so the figures are deterministic and roughly count instructions (an idle guest's waits count as the time it waits). *entry->main* is CLOCK_MONOTONIC, which Toro counts from its kernel's first instruction (firmware excluded); the note compares it with the raw TSC ticks since the kernel's entry (\`boot_tsc\`). *VM start->main* is the raw TSC, which QEMU starts at 0 with the virtual machine, so it includes the firmware (qboot on microvm, SeaBIOS on pc) and the boot loader, and compares Toro with the Linux guest (whose kernel gets \`tsc_early_khz=$icount_khz\` here). Both depend on \`-m\` (the rows use \`-m $BENCH_RAM\`): kernels initialise their memory page by page. No floor."

measure "$BENCH_MICROVM, PVH" "-M $BENCH_MICROVM -m $BENCH_RAM $icount -kernel $clock_pvh" "-M $BENCH_MICROVM -m $BENCH_RAM"
bench_fast && exit 0
measure "pc, -kernel" "-M pc -m $BENCH_RAM $icount -kernel $clock" "-M pc -m $BENCH_RAM"
