# Benchmark module "boot": wall time from starting QEMU to the first byte
# of main()'s output and to QEMU's exit: Toro, the same program in the
# Linux guest, and the do-nothing image (the floor).
. "$BENCH_SRCDIR/lib.sh"

hello=$(bench_image hello)
hello_pvh=$(bench_image hello pvh)
want='^hello 2\.500000'
lcpio=
bench_linux_ok && lcpio=$(bench_linux_image hello)

# diff_ms STAT "TORO VALUES" "FLOOR VALUES": STAT(toro) - STAT(floor).
diff_ms() {
	awk -v a="$($1 $2)" -v b="$($1 $3)" 'BEGIN { printf "%.1f", a - b }'
}

# boot_one WHO: one boot of toro, floor or linux (with $targs, $fargs,
# $largs); leaves bench-timer's answer in $r and dies on a bad boot.
boot_one() {
	out=$BENCH_TMP/$1.out
	case $1 in
	toro) r=$(bench_boot "$out" hello "$BENCH_BOOT_TIMEOUT" $targs) ;;
	floor) r=$(bench_boot "$out" '!' "$BENCH_BOOT_TIMEOUT" $fargs) ;;
	linux) r=$(bench_linux_boot "$out" hello "$BENCH_BOOT_TIMEOUT" "$lcpio" "$BENCH_TSC_KHZ" "$largs") ;;
	esac
	set -- "$1" $r
	ok=yes
	[ "$5" = 1 ] || ok=no	# guest status 0
	case $1 in
	floor) [ "$(cat "$out")" = '!' ] || ok=no ;;
	*) grep -q "$want" "$out" || ok=no ;;
	esac
	if [ $ok = no ]; then
		sed 's/^/  | /' "$out" | tail -n 40 >&2
		bench_die "boot $label ($1): QEMU status $5, output above"
	fi
}

# measure LABEL "TORO QEMU ARGS" "FLOOR QEMU ARGS" "LINUX QEMU ARGS"|- [GOAL_MS]:
# REPEAT interleaved boots of each after one warm-up boot of each; two rows.
measure() {
	label=$1 targs=$2 fargs=$3 largs=$4 goal=${5:-}
	bench_log "boot: $label"
	who="floor toro"
	[ "$largs" != - ] && bench_linux_ok && who="floor toro linux"
	tm= te= fm= fe= lm= le=
	i=0
	bench_fast && i=1	# no warm-up
	while [ $i -le "$BENCH_REPEAT" ]; do
		# Rotate the order so no system always runs first.
		order=$who
		j=0
		while [ $j -lt $((i % 3)) ]; do
			order="${order#* } ${order%% *}"
			j=$((j + 1))
		done
		for w in $order; do
			boot_one $w
			[ $i -eq 0 ] && continue	# warm-up
			set -- $r
			case $w in
			toro) tm="$tm $(ns_to_ms "$2")" te="$te $(ns_to_ms "$3")" ;;
			floor) fm="$fm $(ns_to_ms "$2")" fe="$fe $(ns_to_ms "$3")" ;;
			linux) lm="$lm $(ns_to_ms "$2")" le="$le $(ns_to_ms "$3")" ;;
			esac
		done
		i=$((i + 1))
	done
	dm=$(diff_ms bench_median "$tm" "$fm") de=$(diff_ms bench_median "$te" "$fe")
	dmmin=$(diff_ms bench_min "$tm" "$fm") demin=$(diff_ms bench_min "$te" "$fe")
	nm="Toro adds $dm ms over the floor ($dmmin min to min)"
	if [ -n "$goal" ]; then
		if awk -v d="$dm" -v g="$goal" 'BEGIN { exit !(d <= g) }'; then
			nm="$nm (goal: within $goal ms; met)"
		else
			nm="$nm (goal: within $goal ms; missed)"
		fi
	fi
	ne="Toro adds $de ms over the floor ($demin min to min)"
	if [ "$largs" = - ]; then
		nm="$nm; Linux guest not measured this way"
		ne="$ne; Linux guest not measured this way"
	elif ! bench_linux_ok; then
		nm="$nm; $(bench_linux_missing)"
	fi
	bench_row "boot: $label, to main's output" ms lower "${tm:--}" "${lm:--}" "floor:$fm" "$nm"
	bench_row "boot: $label, to QEMU exit" ms lower "${te:--}" "${le:--}" "floor:$fe" "$ne"
	bench_cmd "boot: $label (Toro)" "$QEMU $BENCH_QEMU_FLAGS $targs"
	[ -n "$lm" ] && bench_linux_cmd "boot: $label (Linux guest)" "$lcpio" "$BENCH_TSC_KHZ" "$largs"
	bench_cmd "boot: $label (floor)" "$QEMU $BENCH_QEMU_FLAGS $fargs"
}

bench_about "**boot**: wall time on the host's CLOCK_MONOTONIC from just before QEMU is started to (a) the arrival of the first byte of main()'s output (\"hello\") on the serial console and (b) QEMU's exit, measured by tests/bench/bench-timer.c, for the hello world (tests/bench/hello.c) as a Toro image and as the Linux guest's /init. Toro boots through PVH on microvm (the image linked with \`-Wl,--defsym=toro_multiboot1_magic=0\`: QEMU prefers multiboot1 when it can) and through its multiboot1 header on pc and q35, what toro-run does by default; the Linux guest boots its cached uncompressed vmlinux through PVH on every machine type (the packaged bzImage spends about 2 s more decompressing itself under TCG). The floor is the do-nothing image tests/bench/floor.s (a PVH note and a multiboot2 header; its entry writes one byte to COM1 and then 0 to isa-debug-exit), booted the same way on the same machine type: no kernel can boot faster. Each row's boots (Toro, Linux guest, floor) are interleaved in a rotating order after one warm-up boot of each. Both ISOs are made by grub-mkrescue with the same grub.cfg (timeout 0, \`multiboot2\`; what \`toro-mkiso\` writes by default) and hold the unstripped image, as a user's would; the Linux guest is not booted from an ISO. The note gives the difference of Toro's and the floor's medians and that of their minimums (less sensitive to a busy host)."

if bench_fast; then
	measure "$BENCH_MICROVM, PVH" \
		"-M $BENCH_MICROVM -m $BENCH_RAM -kernel $hello_pvh" "-M $BENCH_MICROVM -m $BENCH_RAM -kernel $BENCH_FLOOR" \
		"-M $BENCH_MICROVM -m $BENCH_RAM"
	exit 0
fi
measure "$BENCH_MICROVM, PVH" \
	"-M $BENCH_MICROVM -m $BENCH_RAM -kernel $hello_pvh" "-M $BENCH_MICROVM -m $BENCH_RAM -kernel $BENCH_FLOOR" \
	"-M $BENCH_MICROVM -m $BENCH_RAM" 5
for m in pc q35; do
	measure "$m, -kernel" \
		"-M $m -m $BENCH_RAM -kernel $hello" "-M $m -m $BENCH_RAM -kernel $BENCH_FLOOR" "-M $m -m $BENCH_RAM"
done

if [ -n "${GRUB_MKRESCUE:-}" ] && [ -x "$GRUB_MKRESCUE" ] && [ -d /usr/lib/grub/i386-pc ]; then
	bench_log "boot: making the GRUB ISOs"
	bench_iso "$hello" "$BENCH_TMP/hello.iso"
	bench_iso "$BENCH_FLOOR" "$BENCH_TMP/floor.iso"
	measure "pc, GRUB ISO (BIOS)" \
		"-M pc -m $BENCH_RAM -cdrom $BENCH_TMP/hello.iso" "-M pc -m $BENCH_RAM -cdrom $BENCH_TMP/floor.iso" -
else
	bench_log "boot: no grub-mkrescue with BIOS modules: skipping the ISO rows"
	bench_row "boot: pc, GRUB ISO (BIOS)" ms lower - - - "skipped: no grub-mkrescue / grub-pc-bin"
fi
