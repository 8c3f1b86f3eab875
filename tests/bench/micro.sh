# Benchmark module "micro": single-thread microbenchmarks (tests/bench/micro.c)
# measured inside the guest, Toro and the Linux guest on the same machine.
. "$BENCH_SRCDIR/lib.sh"

# Milliseconds each microbenchmark runs in one boot.
if bench_fast; then : "${BENCH_MICRO_MS:=5}"; else : "${BENCH_MICRO_MS:=300}"; fi
timeout=$((BENCH_BOOT_TIMEOUT + BENCH_MICRO_MS * 8 / 1000))	# 3 benchmarks, warm-ups, slack

micro=$(bench_image micro)
micro_pvh=$(bench_image micro pvh)
lcpio=
bench_linux_ok && lcpio=$(bench_linux_image micro)
machine="-M $BENCH_MICROVM -m $BENCH_RAM"

# results WHO OUTFILE STATUS: appends "name value unit" lines to
# $BENCH_TMP/WHO.results; dies unless every benchmark printed one.
results() {
	tr -d '\r' < "$2" | awk '$1 == "RESULT" && NF == 4 && $3 ~ /^[0-9]+(\.[0-9]+)?$/ { print $2, $3, $4 }' > "$BENCH_TMP/last"
	if [ "$3" != 1 ] || [ "$(wc -l < "$BENCH_TMP/last")" -ne 3 ]; then
		sed 's/^/  | /' "$2" | tail -n 40 >&2
		bench_die "micro ($1): QEMU status $3, output above"
	fi
	cat "$BENCH_TMP/last" >> "$BENCH_TMP/$1.results"
}

bench_log "micro: $BENCH_REPEAT boots of each, $BENCH_MICRO_MS ms a benchmark"
: > "$BENCH_TMP/toro.results"
: > "$BENCH_TMP/linux.results"
i=0
while [ $i -lt "$BENCH_REPEAT" ]; do
	out=$BENCH_TMP/micro.out
	set -- $(bench_boot "$out" RESULT $timeout $machine -kernel "$micro_pvh" -append "-- $BENCH_MICRO_MS")
	results toro "$out" "$4"
	if [ -n "$lcpio" ]; then
		set -- $(bench_linux_boot "$out" RESULT $timeout "$lcpio" "$BENCH_TSC_KHZ" "$machine" "$BENCH_MICRO_MS")
		results linux "$out" "$4"
	fi
	i=$((i + 1))
done

# vals WHO NAME: the values of one benchmark.
vals() { awk -v n="$2" '$1 == n { printf " %s", $2 }' "$BENCH_TMP/$1.results"; }

# row NAME LABEL UNIT BETTER NOTE
row() {
	l=$(vals linux "$1")
	n=$5
	[ -n "$lcpio" ] || n="${n:+$n; }$(bench_linux_missing)"
	bench_row "$2" "$3" "$4" "$(vals toro "$1")" "${l:--}" - "$n"
}

bench_about "**micro**: single-thread microbenchmarks in one program (tests/bench/micro.c), booted REPEAT times on \`-M $BENCH_MICROVM -m $BENCH_RAM\` as a Toro image and as the Linux guest's /init. Each runs its operation in batches for $BENCH_MICRO_MS ms of the guest's own CLOCK_MONOTONIC (after a warm-up) and prints \`RESULT name value unit\`; the host only reads the lines. *getppid()* is a system call's round trip (musl calls the kernel every time). *clock_gettime* is what an application pays to read the time: musl uses the Linux kernel's vDSO (no system call) when the kernel offers one, and Toro offers none, so on Toro it is a system call. *malloc+free* is musl's own allocator (mallocng) in both, over each kernel's brk/mmap. Thread creation, yield and condition-variable round trips, channels and malloc on several cores are the threads module's rows. Disk and file throughput are the storage module's rows; TCP throughput, latency and connections the net module's."
row getppid "micro: getppid() round trip" ns lower ""
row clock_gettime "micro: clock_gettime(CLOCK_MONOTONIC)" ns lower "Toro: a system call; Linux: the vDSO"
row malloc_free_64 "micro: malloc+free (64 B), one thread" "M ops/s" higher ""
bench_cmd "micro (Toro)" "$QEMU $BENCH_QEMU_FLAGS $machine -kernel $micro_pvh -append '-- $BENCH_MICRO_MS'"
[ -n "$lcpio" ] && bench_linux_cmd "micro (Linux guest)" "$lcpio" "$BENCH_TSC_KHZ" "$machine" "$BENCH_MICRO_MS"
exit 0
