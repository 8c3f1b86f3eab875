# Benchmark module "prof": toro-prof's three methods (gdbstub, QMP,
# in-guest) against a fixed-work guest (tests/prof/skew.c -n ROUNDS, one
# busy thread per vCPU): samples per second per vCPU achieved, and the
# slowdown of the workload measured as host wall time from QEMU's start to
# its exit, against unprofiled boots in the same run.  Host time, not the
# guest's: QEMU pauses guest time while the VM is stopped, so a guest
# clock would not see the cost of stopping it.  qprofiler's ~50 samples/s
# (QMP, boot core only, no stacks) is the reference of the gdbstub rows.
. "$BENCH_SRCDIR/lib.sh"

top=${TORO_GCC%/tests/x86_64-toro-gcc}
PROF=$top/tools/toro-prof/toro-prof
RUN=$top/toro-run
if bench_fast; then
	: "${BENCH_PROF_SMP:=2}" "${BENCH_PROF_RATES:=1000}" "${BENCH_PROF_ROUNDS:=600}"
	: "${BENCH_PROF_METHODS:=in-guest}"
else
	: "${BENCH_PROF_SMP:=1 4}" "${BENCH_PROF_RATES:=100 1000 max}" "${BENCH_PROF_ROUNDS:=1500}"
	: "${BENCH_PROF_METHODS:=gdb qmp in-guest}"
fi
if [ ! -x "$PROF" ] || [ ! -x "$RUN" ]; then
	bench_about "**prof**: not measured: toro-prof was not built (it needs libdw-dev, libelf-dev)"
	exit 0
fi
img=$BENCH_TMP/skew.elf
timeout 120 "$TORO_GCC" -g -O1 "$BENCH_SRCDIR/../prof/skew.c" -o "$img" >&2 ||
	bench_die "cannot build skew.c with $TORO_GCC"

# one SMP METHOD RATE: boots skew with fixed work (METHOD "none": not
# profiled) and prints "WALL_SECONDS SAMPLES_PER_S_PER_VCPU".
one() {
	smp=$1 method=$2 rate=$3
	# max: as fast as toro-prof can go; in-guest, what a 512-record ring
	# drained every 0.1 s holds
	if [ "$rate" = max ]; then
		rate=100000
		[ "$method" = in-guest ] && rate=5000
	fi
	# a port nothing holds (tests/free-port.py): make check runs this beside other tests
	port=$(python3 "$BENCH_SRCDIR/../free-port.py") || bench_die "prof: no free TCP port"
	sock=$BENCH_TMP/q.sock
	rm -f "$sock"
	extra=
	case $method in
	gdb) extra="--gdb=$port" ;;
	qmp) extra="--qmp $sock" ;;
	in-guest) extra="--gdb=$port --qmp $sock --append prof=$rate" ;;
	esac
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$RUN" "$img" --smp "$smp" --timeout 300 $extra -- -n "$BENCH_PROF_ROUNDS" "$smp" \
		>"$BENCH_TMP/guest.out" 2>&1 &
	q=$!
	case $method in
	gdb) "$PROF" record -q --gdb 127.0.0.1:$port --wait 20 --rate "$rate" --duration 600 \
		-o "$BENCH_TMP/p.prof" "$img" ;;
	qmp) "$PROF" record -q --qmp "$sock" --wait 20 --rate "$rate" --duration 600 \
		-o "$BENCH_TMP/p.prof" "$img" ;;
	in-guest) "$PROF" record -q --in-guest --gdb 127.0.0.1:$port --qmp "$sock" --wait 20 \
		--rate "$rate" --duration 600 -o "$BENCH_TMP/p.prof" "$img" ;;
	esac
	wait $q || { sed 's/^/  | /' "$BENCH_TMP/guest.out" >&2; bench_die "prof: skew -smp $smp ($method) failed"; }
	t1=$(date +%s.%N)
	a=-
	[ "$method" = none ] || a=$(sed -n 's/^end .*achieved=\([0-9.]*\).*/\1/p' "$BENCH_TMP/p.prof")
	awk -v a="$t0" -v b="$t1" -v s="${a:--}" 'BEGIN { printf "%.3f %s\n", b - a, s }'
}

bench_log "prof: $BENCH_REPEAT boots of skew -n $BENCH_PROF_ROUNDS per case, -smp $BENCH_PROF_SMP, rates $BENCH_PROF_RATES, methods $BENCH_PROF_METHODS"
bench_about "**prof**: toro-prof's methods on tests/prof/skew.c with fixed work (\`skew -n $BENCH_PROF_ROUNDS N\`, one busy thread a vCPU), booted by toro-run (microvm, MTTCG above one vCPU) REPEAT times per case. *samples/s* is per vCPU (the recording's \`achieved=\`; for gdb and QMP a round samples every vCPU; in-guest, over the time drained). *max*: \`--rate 100000\`, in-guest 5000 (what a 512-sample ring drained every 0.1 s holds). *slowdown* is the host wall time of the whole boot against unprofiled boots measured in the same run (the guest's own clock pauses while the VM is stopped, so it would hide the cost). in-guest: the kernel samples at its timer interrupt (booted with prof=RATE; toro-prof writes the rate too) and toro-prof drains the rings through QMP pmemsave every 0.1 s without stopping the VM. Reference: qprofiler, ~50 samples/s of the boot core only, no stacks. Targets: in-guest ≥ 1000 samples/s per vCPU on 4 vCPUs at ≤ 5% slowdown; gdbstub ≥ 20× qprofiler (1000/s). This host has $(grep -c '^processor' /proc/cpuinfo) cores: QEMU's timers, its main loop and toro-prof share them with the vCPUs."
for smp in $BENCH_PROF_SMP; do
	base=
	for i in $(seq "$BENCH_REPEAT"); do
		base="$base $(one "$smp" none 0 | cut -d' ' -f1)"
	done
	bench_row "prof: unprofiled skew, -smp $smp" s lower "$base" - - "host wall time, boot to exit"
	bmed=$(bench_median $base)
	for m in $BENCH_PROF_METHODS; do
		for rate in $BENCH_PROF_RATES; do
			sps= slow=
			for i in $(seq "$BENCH_REPEAT"); do
				set -- $(one "$smp" "$m" "$rate")
				sps="$sps $2"
				slow="$slow $(awk -v w="$1" -v b="$bmed" 'BEGIN { printf "%.1f\n", 100 * (w / b - 1) }')"
			done
			ref=-
			[ "$m" = gdb ] && ref="=1000"
			[ "$m" = in-guest ] && [ "$rate" != 100 ] && ref="=1000"
			bench_row "prof: $m at $rate/s, -smp $smp: samples/s per vCPU" "1/s" higher "$sps" - "$ref" ""
			ref=-
			[ "$m" = in-guest ] && ref="=5"
			bench_row "prof: $m at $rate/s, -smp $smp: slowdown" "%" lower "$slow" - "$ref" ""
		done
	done
	bench_cmd "prof, -smp $smp" "$RUN skew.elf --smp $smp --gdb=PORT --qmp SOCK [--append prof=RATE] -- -n $BENCH_PROF_ROUNDS $smp & toro-prof record [--in-guest] --gdb 127.0.0.1:PORT [--qmp SOCK] --rate RATE -o p.prof skew.elf"
done
exit 0
