# Benchmark module "mem": the smallest -m with which the hello world boots
# and exits correctly, found by bisection, for Toro and the Linux guest.
. "$BENCH_SRCDIR/lib.sh"

: "${BENCH_MEM_TIMEOUT:=3}"		# seconds; Toro's good boot takes < 0.1 s
: "${BENCH_LINUX_MEM_TIMEOUT:=8}"	# the Linux guest's takes about 1.2 s

hello=$(bench_image hello)
hello_pvh=$(bench_image hello pvh)
lcpio=
bench_linux_ok && lcpio=$(bench_linux_image hello)

# boots_ok KIB: does hello world boot, print and exit 0 with -m KIB K
# ($who: toro or linux, with $args)?  Leaves bench-timer's answer in $res.
boots_ok() {
	out=$BENCH_TMP/mem.out
	if [ $who = toro ]; then
		res=$(bench_boot "$out" hello "$BENCH_MEM_TIMEOUT" -m "$1K" $args)
	else
		res=$(bench_linux_boot "$out" hello "$BENCH_LINUX_MEM_TIMEOUT" "$lcpio" "$BENCH_TSC_KHZ" "-m $1K $args")
	fi
	set -- $res
	[ "$4" = 1 ] && grep -q '^hello 2\.500000' "$out"
}

# How the last boots_ok failed: "status N" (the guest's exit status),
# "hangs", "stops" (panic), "resets", and the line that says why (the
# panic's, or the first one).
failure() {
	set -- $res
	o=$BENCH_TMP/mem.out
	line=
	[ "$4" = 126 ] && line=$(grep -m1 -E 'toro: (panic|fatal)|Kernel panic' "$o")
	[ -n "$line" ] || line=$(grep -m1 -v '^[[:space:]]*$' "$o")
	line=$(echo "$line" | tr -d '\r' | sed 's/^\[ *[0-9.]*\] //' | cut -c1-60)
	case $4 in
	124) how="hangs" ;;
	126) how="stops" ;;
	0) how="resets" ;;
	*) how="status $((($4 - 1) / 2))" ;;
	esac
	if [ -n "$line" ]; then echo "$how, \"$line...\""; else echo "$how, no output"; fi
}

# search WHO ARGS LO HI STEP WINDOW -> sets $hi, $lo, $lowhy, $vals, $note:
# bisection between LO KiB (expected to fail) and HI KiB (doubled until it
# works), in STEP KiB; then REPEAT boots at the result and one boot every
# STEP KiB in the WINDOW KiB above it.
search() {
	who=$1 args=$2 lo=$3 hi=$4 step=$5 window=$6
	lowhy=
	if boots_ok $lo; then
		hi=$lo
	else
		lowhy=$(failure)
		while ! boots_ok $hi; do
			lo=$hi hi=$((hi * 2)) lowhy=$(failure)
			[ $hi -le 1048576 ] || bench_die "mem $label ($who): does not boot with -m 1G"
		done
	fi
	# Invariant: lo fails (or lo = hi), hi works.
	while [ $((hi - lo)) -gt $step ]; do
		mid=$(((lo + hi) / 2 / step * step))
		[ $mid -gt $lo ] || mid=$((lo + step))
		if boots_ok $mid; then hi=$mid; else lo=$mid lowhy=$(failure); fi
	done
	# The result must boot REPEAT times in a row: near the edge a boot
	# may succeed or fail by chance (the Linux guest's do).  If it does
	# not, one step up, and again.
	flaky= tries=0
	while :; do
		vals= ok=0 i=0
		while [ $i -lt "$BENCH_REPEAT" ]; do
			if boots_ok $hi; then
				ok=$((ok + 1)) vals="$vals $hi"
			else
				why=$(failure)
			fi
			i=$((i + 1))
		done
		[ $ok -lt "$BENCH_REPEAT" ] || break
		flaky="$flaky${flaky:+, }$ok/$BENCH_REPEAT at $hi KiB"
		tries=$((tries + 1))
		[ $tries -lt 16 ] || bench_die "mem $label ($who): no -m up to ${hi}K boots $BENCH_REPEAT times in a row"
		lo=$hi lowhy=$why hi=$((hi + step))
	done
	# Does any size just above the result fail (memory sizes are not
	# necessarily monotonic)?  Failing sizes become ranges "a-b".
	bad= k=$((hi + step))
	while [ $k -le $((hi + window)) ]; do
		boots_ok $k || { bad="$bad $k"; badwhy=$(failure); }
		k=$((k + step))
	done
	note="$(awk -v k=$hi 'BEGIN { printf "%.2f MiB", k / 1024 }')"
	[ $lo -lt $hi ] && note="$note; $lo KiB: $lowhy"
	[ -z "$flaky" ] || note="$note; booted $flaky"
	if [ -n "$bad" ]; then
		ranges=$(echo $bad | tr ' ' '\n' | awk -v s=$step '
			NR == 1 { a = b = $1; next }
			$1 == b + s { b = $1; next }
			{ out = out sep (a == b ? a : a "-" b); sep = ", "; a = b = $1 }
			END { print out sep (a == b ? a : a "-" b) }')
		[ "$badwhy" = "$lowhy" ] && badwhy="the same way"
		note="$note; but fails again at $ranges KiB ($badwhy)"
	elif [ $window -gt 0 ]; then
		note="$note; all sizes up to +$window KiB boot"
	fi
}

# measure LABEL "TORO QEMU ARGS" "LINUX QEMU ARGS": one row.
measure() {
	label=$1
	bench_log "mem: $label (Toro)"
	if bench_fast; then
		search toro "$2" 1024 4096 64 0
	else
		search toro "$2" 1024 4096 8 256
	fi
	tvals=$vals tnote="Toro: $note" thi=$hi
	lvals=- lnote="$(bench_linux_missing)"
	if [ -n "$lcpio" ]; then
		bench_log "mem: $label (Linux guest)"
		# Below the end of its segments the vmlinux cannot even be
		# loaded (QEMU then runs nothing until the time limit).
		lo=$(bench_linux_load_end_kib) hi=131072
		[ $hi -gt $lo ] || hi=$((lo * 2))
		if bench_fast; then
			search linux "$3" $lo $hi 4096 0
		else
			search linux "$3" $lo $hi 256 1024
		fi
		lvals=$vals lnote="Linux guest: $note"
	fi
	bench_row "smallest -m: $label" KiB lower "$tvals" "$lvals" "=4096" "$tnote. $lnote"
	bench_cmd "smallest -m: $label (Toro)" "$QEMU $BENCH_QEMU_FLAGS -m ${thi}K $2"
	[ -n "$lcpio" ] && bench_linux_cmd "smallest -m: $label (Linux guest)" "$lcpio" "$BENCH_TSC_KHZ" "-m ${hi}K $3"
}

bench_about "**smallest -m**: the smallest guest RAM (\`-m NK\`; QEMU takes a K suffix and rounds it up to a multiple of 8 KiB) with which the hello world boots, prints its line and exits with status 0 REPEAT times in a row (reps), found by bisection (which assumes that more memory never hurts), then one step up at a time while some of the REPEAT boots at the result fail (the note says where). Toro: in 8 KiB steps between 1 MiB and 4 MiB, checking every 8 KiB in the 256 KiB above the result, since that assumption can be false; a boot that takes over $BENCH_MEM_TIMEOUT s counts as a failure. Linux guest: in 256 KiB steps between the end of its vmlinux in physical memory (below which QEMU cannot load it) and 128 MiB (its boots are slower), checking every 256 KiB in the 1 MiB above the result, with a time limit of $BENCH_LINUX_MEM_TIMEOUT s; its result depends on the kernel's size and on the initramfs, which here holds only the program. The note says how each fails just below its result. Target: Toro's goal of booting with \`-m 4M\` or less (4096 KiB)."

measure "$BENCH_MICROVM, PVH" "-M $BENCH_MICROVM -kernel $hello_pvh" "-M $BENCH_MICROVM"
bench_fast && exit 0
measure "pc, -kernel" "-M pc -kernel $hello" "-M pc"
