# Benchmark module "threads": thread creation, same-core yield, cross-core
# condition variables and messages, and malloc/free on 1, 2 and 4 cores
# (tests/bench/threads.c), measured inside the guest, Toro and the Linux
# guest booted with the same -smp.
. "$BENCH_SRCDIR/lib.sh"

# Milliseconds each benchmark runs in one boot, and the -smp values.  The
# fast mode (make check) boots only -smp 2, which runs every benchmark
# but malloc on 4 cores.
if bench_fast; then
	: "${BENCH_THREADS_MS:=5}" "${BENCH_THREADS_SMP:=2}"
else
	: "${BENCH_THREADS_MS:=300}" "${BENCH_THREADS_SMP:=1 2 4}"
fi
# At most 7 benchmarks a boot, each with a warm-up of a quarter; slack.
timeout=$((BENCH_BOOT_TIMEOUT + BENCH_THREADS_MS * 12 / 1000))
host_cores=$(grep -c '^processor' /proc/cpuinfo 2>/dev/null || echo 1)
base_flags=$BENCH_QEMU_FLAGS
smp_flags=$(printf '%s\n' "$BENCH_QEMU_FLAGS" | sed 's/-accel tcg\( \|$\)/-accel tcg,thread=multi\1/')

# The Toro image, booted through PVH like micro's.
img=$BENCH_TMP/threads.pvh.elf
timeout 120 "$TORO_GCC" -O2 "$BENCH_SRCDIR/threads.c" -Wl,--defsym=toro_multiboot1_magic=0 \
	-o "$img" >&2 || bench_die "cannot build threads.c with $TORO_GCC"
lcpio=
bench_linux_ok && lcpio=$(bench_linux_image threads)

# qemu_flags SMP: the shared flags, with MTTCG (one host thread a vCPU)
# for more than one CPU, and the machine.
qemu_flags() {
	if [ "$1" -gt 1 ]; then BENCH_QEMU_FLAGS=$smp_flags; else BENCH_QEMU_FLAGS=$base_flags; fi
	machine="-M $BENCH_MICROVM -m $BENCH_RAM -smp $1"
}

# expected WHO SMP: the benchmarks a boot with SMP CPUs must report.
expected() {
	e="thread_create_join yield_rt malloc_free_1"
	if [ "$2" -ge 2 ]; then
		e="$e futex_wake_rt malloc_free_2 malloc_2v1 channel_rt"
	fi
	[ "$2" -lt 4 ] || e="$e malloc_free_4"
	echo "$e"
}

# results WHO SMP OUTFILE STATUS: appends "smp name value" lines to
# $BENCH_TMP/WHO.results; dies unless every expected benchmark printed one.
results() {
	tr -d '\r' < "$3" | awk -v s="$2" '$1 == "RESULT" && NF == 4 && $3 ~ /^[0-9]+(\.[0-9]+)?$/ { print s, $2, $3 }' > "$BENCH_TMP/last"
	missing=
	for b in $(expected "$1" "$2"); do
		awk -v b="$b" '$2 == b { f = 1 } END { exit !f }' "$BENCH_TMP/last" || missing="$missing $b"
	done
	if [ "$4" != 1 ] || [ -n "$missing" ]; then
		sed 's/^/  | /' "$3" | tail -n 40 >&2
		bench_die "threads ($1, -smp $2): QEMU status $4${missing:+, no result for$missing}, output above"
	fi
	cat "$BENCH_TMP/last" >> "$BENCH_TMP/$1.results"
}

bench_log "threads: $BENCH_REPEAT boots of each with -smp $(echo $BENCH_THREADS_SMP | sed 's/ /, /g'), $BENCH_THREADS_MS ms a benchmark"
: > "$BENCH_TMP/toro.results"
: > "$BENCH_TMP/linux.results"
out=$BENCH_TMP/threads.out
i=0
while [ $i -lt "$BENCH_REPEAT" ]; do
	for smp in $BENCH_THREADS_SMP; do
		qemu_flags "$smp"
		set -- $(bench_boot "$out" RESULT $timeout $machine -kernel "$img" -append "-- $BENCH_THREADS_MS")
		results toro "$smp" "$out" "$4"
		if [ -n "$lcpio" ]; then
			set -- $(bench_linux_boot "$out" RESULT $timeout "$lcpio" "$BENCH_TSC_KHZ" "$machine" "$BENCH_THREADS_MS")
			results linux "$smp" "$out" "$4"
		fi
	done
	i=$((i + 1))
done

# vals WHO SMP NAME: the values of one benchmark at one -smp.
vals() { awk -v s="$2" -v n="$3" '$1 == s && $2 == n { printf " %s", $3 }' "$BENCH_TMP/$1.results"; }

# row NAME SMP LABEL UNIT BETTER REFERENCE NOTE: one row per -smp measured.
row() {
	case " $BENCH_THREADS_SMP " in *" $2 "*) ;; *) return 0 ;; esac
	t=$(vals toro "$2" "$1")
	l=$(vals linux "$2" "$1")
	n=$7
	[ "$2" -le "$host_cores" ] || n="${n:+$n; }$2 vCPUs on $host_cores host cores"
	[ -n "$lcpio" ] || n="${n:+$n; }$(bench_linux_missing)"
	bench_row "$3, -smp $2" "$4" "$5" "${t:--}" "${l:--}" "$6" "$n"
}

chan_note="Toro: toro_channel_send/recv; Linux: two pipes"
bench_about "**threads**: thread microbenchmarks in one program (tests/bench/threads.c), booted REPEAT times with each of \`-smp $(echo $BENCH_THREADS_SMP | sed 's/ /, /g')\` on \`-M $BENCH_MICROVM -m $BENCH_RAM\` as a Toro image and as the Linux guest's /init; with more than one CPU both use \`-accel tcg,thread=multi\` (a host thread a vCPU; this host has $host_cores cores, so -smp 4 shares them). Each benchmark runs in batches for $BENCH_THREADS_MS ms of the guest's CLOCK_MONOTONIC after a warm-up and prints \`RESULT name value unit\`. Threads pin themselves with pthread_setaffinity_np() (sched_setaffinity on both kernels). *pthread create+join*: an empty thread, created and joined in a loop by the unpinned main thread, placed by each kernel's default policy. *yield round trip*: two threads pinned to CPU 0 hand a turn word back and forth with sched_yield(). *condvar round trip*: threads pinned to CPUs 0 and 1 hand the turn back and forth through a mutex and two condition variables (two futex wakes across cores a round trip). *channel round trip*: a 64-byte message from CPU 0 to CPU 1 and back, through toro_channel_send/recv on Toro and, the closest Linux equivalent, two pipes. *malloc+free*: N threads each pinned to its own CPU (N = -smp) free and allocate 64-byte blocks among 16 live ones; the row is the total of pairs per second; *2 threads vs 1* divides the 2-thread total by the 1-thread one measured in the same -smp 2 boot (target 1.8). The goal for every other row is a *Toro vs Linux* of at least 2."
for s in 1 2 4; do
	row thread_create_join $s "threads: pthread create+join" "k/s" higher - ""
done
for s in 1 2 4; do
	row yield_rt $s "threads: yield round trip, same CPU" "µs" lower - ""
done
for s in 2 4; do
	row futex_wake_rt $s "threads: condvar round trip, CPUs 0 and 1" "µs" lower - ""
done
for s in 2 4; do
	row channel_rt $s "threads: channel round trip (64 B), CPUs 0 and 1" "µs" lower - "$chan_note"
done
row malloc_free_1 1 "threads: malloc+free (64 B), 1 thread" "M ops/s" higher - ""
for s in 2 4; do
	row malloc_free_$s $s "threads: malloc+free (64 B), $s threads on $s CPUs" "M ops/s" higher - ""
done
row malloc_2v1 2 "threads: malloc+free, 2 threads vs 1" ratio higher =1.8 "same boot: malloc_free_2 / malloc_free_1"
for smp in $BENCH_THREADS_SMP; do
	qemu_flags "$smp"
	bench_cmd "threads (Toro), -smp $smp" "$QEMU $BENCH_QEMU_FLAGS $machine -kernel $img -append '-- $BENCH_THREADS_MS'"
	[ -n "$lcpio" ] && bench_linux_cmd "threads (Linux guest), -smp $smp" "$lcpio" "$BENCH_TSC_KHZ" "$machine" "$BENCH_THREADS_MS"
done
exit 0
