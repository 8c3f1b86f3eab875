# Benchmark module "mem": the smallest -m with which the hello world boots
# and exits correctly, found by bisection.
. "$BENCH_SRCDIR/lib.sh"

: "${BENCH_MEM_TIMEOUT:=3}"	# seconds; a good boot takes < 0.1 s
step=8		# KiB: QEMU rounds -m up to a multiple of 8 KiB
window=256	# KiB above the result checked for boots that fail anyway

hello=$(bench_image hello)
hello_pvh=$(bench_pvh_copy "$hello")

# boots_ok KIB ARGS: does hello world boot, print and exit 0 with -m KIB K?
# Leaves bench-timer's answer in $res.
boots_ok() {
	out=$BENCH_TMP/mem.out
	res=$(bench_boot "$out" hello "$BENCH_MEM_TIMEOUT" -m "$1K" $2)
	set -- $res
	[ "$4" = 1 ] && grep -q '^hello 2\.500000$' "$out"
}

# How the last boots_ok failed: "status N" (the guest's exit status),
# "hangs", "stops" (panic), "resets", and the first line it printed.
failure() {
	set -- $res
	line=$(grep -m1 -v '^[[:space:]]*$' "$BENCH_TMP/mem.out" | tr -d '\r' | cut -c1-48)
	case $4 in
	124) how="hangs" ;;
	126) how="stops" ;;
	0) how="resets" ;;
	*) how="status $((($4 - 1) / 2))" ;;
	esac
	if [ -n "$line" ]; then echo "$how, \"$line...\""; else echo "$how, no output"; fi
}

# measure LABEL ARGS: bisection between 1 MiB (the image loads at 1 MiB:
# cannot work) and 4 MiB (doubled until it works); then REPEAT boots at the
# result and one boot every 8 KiB in the window above it.
measure() {
	label=$1 args=$2
	bench_log "mem: $label"
	lo=1024 hi=4096 lowhy=
	if boots_ok $lo "$args"; then
		hi=$lo
	else
		lowhy=$(failure)
		while ! boots_ok $hi "$args"; do
			lo=$hi hi=$((hi * 2)) lowhy=$(failure)
			[ $hi -le 262144 ] || bench_die "mem $label: does not boot with -m 256M"
		done
	fi
	# Invariant: lo fails (or lo = hi), hi works.
	while [ $((hi - lo)) -gt $step ]; do
		mid=$(((lo + hi) / 2 / step * step))
		if boots_ok $mid "$args"; then hi=$mid; else lo=$mid lowhy=$(failure); fi
	done
	vals= ok=0 i=0
	while [ $i -lt "$BENCH_REPEAT" ]; do
		boots_ok $hi "$args" && ok=$((ok + 1)) vals="$vals $hi"
		i=$((i + 1))
	done
	[ $ok -eq "$BENCH_REPEAT" ] || bench_die "mem $label: -m ${hi}K booted only $ok/$BENCH_REPEAT times"
	# Does any size just above the result fail (memory sizes are not
	# necessarily monotonic)?  Failing sizes become ranges "a-b".
	bad= k=$((hi + step))
	while [ $k -le $((hi + window)) ]; do
		boots_ok $k "$args" || { bad="$bad $k"; badwhy=$(failure); }
		k=$((k + step))
	done
	note="$(awk -v k=$hi 'BEGIN { printf "%.2f MiB", k / 1024 }')"
	[ $lo -lt $hi ] && note="$note; $lo KiB: $lowhy"
	if [ -n "$bad" ]; then
		ranges=$(echo $bad | tr ' ' '\n' | awk -v s=$step '
			NR == 1 { a = b = $1; next }
			$1 == b + s { b = $1; next }
			{ out = out sep (a == b ? a : a "-" b); sep = ", "; a = b = $1 }
			END { print out sep (a == b ? a : a "-" b) }')
		[ "$badwhy" = "$lowhy" ] && badwhy="the same way"
		note="$note; but fails again at $ranges KiB ($badwhy)"
	else
		note="$note; all sizes up to +$window KiB boot"
	fi
	bench_row "smallest -m: $label" KiB lower "$vals" "=4096" "$note"
	bench_cmd "smallest -m: $label" "$QEMU $BENCH_QEMU_FLAGS -m ${hi}K $args"
}

bench_about "**smallest -m**: the smallest guest RAM (\`-m NK\`; QEMU takes a K suffix and rounds it up to a multiple of 8 KiB) with which the hello world boots, prints its line and exits with status 0, found by bisection in 8 KiB steps between 1 MiB and 4 MiB (which assumes that more memory never hurts), then booted REPEAT more times at the result (reps). The note says how the boot fails just below the result, and checks every 8 KiB in the $window KiB above it, since that assumption can be false. Baseline: the goal of booting with \`-m 4M\` or less (4096 KiB)."

measure "$BENCH_MICROVM, PVH" "-M $BENCH_MICROVM -kernel $hello_pvh"
measure "pc, multiboot1" "-M pc -kernel $hello"
