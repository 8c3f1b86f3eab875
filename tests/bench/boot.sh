# Benchmark module "boot": wall time from starting QEMU to the first byte
# of main()'s output and to QEMU's exit, beside the do-nothing image.
. "$BENCH_SRCDIR/lib.sh"

hello=$(bench_image hello)
hello_pvh=$(bench_pvh_copy "$hello")
want_toro='^hello 2\.500000$'

# diff_ms STAT "TORO VALUES" "FLOOR VALUES": STAT(toro) - STAT(floor).
diff_ms() {
	awk -v a="$($1 $2)" -v b="$($1 $3)" 'BEGIN { printf "%.1f", a - b }'
}

# measure LABEL "TORO QEMU ARGS" "FLOOR QEMU ARGS" [GOAL_MS]: REPEAT
# interleaved boots of each after one warm-up boot of each; two rows.
measure() {
	label=$1 targs=$2 fargs=$3 goal=${4:-}
	bench_log "boot: $label"
	tm= te= fm= fe=
	i=0
	while [ $i -le "$BENCH_REPEAT" ]; do
		# Alternate the order so neither side always runs first.
		if [ $((i % 2)) -eq 0 ]; then order="floor toro"; else order="toro floor"; fi
		for who in $order; do
			out=$BENCH_TMP/$who.out
			if [ $who = toro ]; then
				r=$(bench_boot "$out" hello "$BENCH_BOOT_TIMEOUT" $targs)
			else
				r=$(bench_boot "$out" '!' "$BENCH_BOOT_TIMEOUT" $fargs)
			fi
			set -- $r
			ok=yes
			[ "$4" = 1 ] || ok=no	# guest status 0
			if [ $who = toro ]; then
				grep -q "$want_toro" "$out" || ok=no
			else
				[ "$(cat "$out")" = '!' ] || ok=no
			fi
			if [ $ok = no ]; then
				sed 's/^/  | /' "$out" >&2
				bench_die "boot $label ($who): QEMU status $4, output above"
			fi
			[ $i -eq 0 ] && continue	# warm-up
			if [ $who = toro ]; then
				tm="$tm $(ns_to_ms "$2")" te="$te $(ns_to_ms "$3")"
			else
				fm="$fm $(ns_to_ms "$2")" fe="$fe $(ns_to_ms "$3")"
			fi
		done
		i=$((i + 1))
	done
	dm=$(diff_ms bench_median "$tm" "$fm") de=$(diff_ms bench_median "$te" "$fe")
	dmmin=$(diff_ms bench_min "$tm" "$fm") demin=$(diff_ms bench_min "$te" "$fe")
	nm="adds $dm ms over the floor ($dmmin min to min)"
	if [ -n "$goal" ]; then
		if awk -v d="$dm" -v g="$goal" 'BEGIN { exit !(d <= g) }'; then
			nm="$nm (goal: within $goal ms; met)"
		else
			nm="$nm (goal: within $goal ms; missed)"
		fi
	fi
	bench_row "boot: $label, to main's output" ms lower "$tm" "$fm" "$nm"
	bench_row "boot: $label, to QEMU exit" ms lower "$te" "$fe" "adds $de ms over the floor ($demin min to min)"
	bench_cmd "boot: $label (Toro)" "$QEMU $BENCH_QEMU_FLAGS $targs"
	bench_cmd "boot: $label (floor)" "$QEMU $BENCH_QEMU_FLAGS $fargs"
}

bench_about "**boot**: wall time on the host's CLOCK_MONOTONIC from just before QEMU is started to (a) the arrival of the first byte of main()'s output (\"hello\") on the serial console and (b) QEMU's exit, measured by tests/bench/bench-timer.c. Baseline (the floor): the do-nothing image tests/bench/floor.s (a PVH note and a multiboot2 header; its entry writes one byte to COM1 and then 0 to isa-debug-exit), booted the same way on the same machine type in the same run, interleaved with Toro's boots after one warm-up boot of each. On pc, Toro boots through its multiboot1 header while the floor boots through PVH (it has no multiboot1 header). Both ISOs are made by grub-mkrescue with the same grub.cfg (timeout 0, \`multiboot2\`; what \`toro-mkiso\` writes by default) and hold the unstripped image, as a user's would. The ratio is Toro/floor; the note gives the difference of the medians and that of the minimums (less sensitive to a busy host)."

measure "$BENCH_MICROVM, PVH" \
	"-M $BENCH_MICROVM -m $BENCH_RAM -kernel $hello_pvh" "-M $BENCH_MICROVM -m $BENCH_RAM -kernel $BENCH_FLOOR" 5
measure "pc, multiboot1" \
	"-M pc -m $BENCH_RAM -kernel $hello" "-M pc -m $BENCH_RAM -kernel $BENCH_FLOOR"

if [ -n "${GRUB_MKRESCUE:-}" ] && [ -x "$GRUB_MKRESCUE" ] && [ -d /usr/lib/grub/i386-pc ]; then
	bench_log "boot: making the GRUB ISOs"
	bench_iso "$hello" "$BENCH_TMP/hello.iso"
	bench_iso "$BENCH_FLOOR" "$BENCH_TMP/floor.iso"
	measure "pc, GRUB ISO (BIOS)" \
		"-M pc -m $BENCH_RAM -cdrom $BENCH_TMP/hello.iso" "-M pc -m $BENCH_RAM -cdrom $BENCH_TMP/floor.iso"
else
	bench_log "boot: no grub-mkrescue with BIOS modules: skipping the ISO rows"
	bench_row "boot: pc, GRUB ISO (BIOS)" ms lower - - "skipped: no grub-mkrescue / grub-pc-bin"
fi
