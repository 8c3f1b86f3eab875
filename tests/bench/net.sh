# Benchmark module "net": TCP bulk throughput both ways, request/response
# rate and latency over one persistent connection, and connections per
# second.  The guest program (tests/bench/net.c) is a server, the same C
# source for Toro and the Linux guest, booted on the same machine with the
# same NIC; the host drives it with bench-netclient (the same host program
# for both) and measures.
#
# The network path, the same for both guests, is lib.sh's (bench_net_path):
# by default, as root, a tap device in a network namespace this module
# creates (192.168.76.1/24; the guest is 192.168.76.2), QEMU and the client
# inside it; otherwise QEMU user networking.  The guest gets its address
# statically from Linux's ip= option on its kernel command line on both
# systems (net.c explains how the Linux guest applies it).
#
# The environment:
#   BENCH_NETCLIENT      the host program (bench.mk builds it)
#   BENCH_NET_PATH       tap or user (default: tap as root, else user)
#   BENCH_NET_TORO       required (default): Toro must give every number,
#                        or the module fails; optional: a Toro that cannot
#                        (no socket calls in its image, or a run that
#                        fails) leaves its column empty and says why in
#                        the notes, the Linux guest is measured anyway
#                        (fast.test uses it until Toro's stack is
#                        reliable); no: Toro is not booted
#   BENCH_NET_BULK_MIB, BENCH_NET_RR, BENCH_NET_CPS, BENCH_NET_CPS_CONC,
#   BENCH_NET_TEST_TIMEOUT: the sizes (below)
. "$BENCH_SRCDIR/lib.sh"

# MiB moved each way, request/response round trips (after a warm-up of
# a tenth, at most 100), connections (a tenth, at most 50, of them a
# warm-up) and how many the client keeps open at once, and the seconds
# one test may take.  The fast mode (make check) only proves that every
# number comes out.  Bulk moves 512 MiB: 64 MiB lasted a tenth of a
# second at these rates, mostly slow start and the first window, and
# the same build measured 1.31x-1.90x the Linux guest from run to run.
if bench_fast; then
	: "${BENCH_NET_BULK_MIB:=1}" "${BENCH_NET_RR:=200}" "${BENCH_NET_CPS:=50}" "${BENCH_NET_TEST_TIMEOUT:=30}"
else
	: "${BENCH_NET_BULK_MIB:=512}" "${BENCH_NET_RR:=10000}" "${BENCH_NET_CPS:=2000}" "${BENCH_NET_TEST_TIMEOUT:=60}"
fi
: "${BENCH_NET_CPS_CONC:=1}" "${BENCH_NET_PATH:=}" "${BENCH_NET_TORO:=required}" "${BENCH_NETCLIENT:=}"
req=64 reply=128 cps_reply=64	# bytes of a request, its reply, a connection's reply
port=5001			# net.c's default
bytes=$((BENCH_NET_BULK_MIB * 1048576))
rr_warm=$((BENCH_NET_RR / 10))
[ $rr_warm -le 100 ] || rr_warm=100
gargs="sink source $bytes echo $req $reply accept $BENCH_NET_CPS $cps_reply"
ctests="sink $bytes source $bytes rr $req $reply $BENCH_NET_RR cps $BENCH_NET_CPS $cps_reply"
# Four tests, each bounded by the client; a boot with Linux's modules.
ctimeout=$((4 * BENCH_NET_TEST_TIMEOUT + 20))
gtimeout=$((BENCH_BOOT_TIMEOUT + 30 + ctimeout))
# The Linux guest's drivers, as storage's: virtio-mmio (microvm's
# transport, found through ACPI), virtio_pci in case BENCH_MICROVM names a
# PCI machine, virtio_net (it pulls in net_failover and failover).
kmods=$BENCH_NET_KMODS

[ -n "$BENCH_NETCLIENT" ] && [ -x "$BENCH_NETCLIENT" ] ||
	bench_die "net: no host client (BENCH_NETCLIENT=$BENCH_NETCLIENT): run it through make bench, which builds tests/bench/bench-netclient"
case $BENCH_NET_TORO in
required|optional|no) ;;
*) bench_die "net: BENCH_NET_TORO must be required, optional or no, not \"$BENCH_NET_TORO\"" ;;
esac
case $BENCH_NET_CPS_CONC in ''|*[!0-9]*|0) bench_die "net: BENCH_NET_CPS_CONC wants a positive number" ;; esac
[ "$BENCH_NET_CPS" -gt 10 ] || bench_die "net: BENCH_NET_CPS wants more than 10 connections"

# ------------------------------------------------------------ the path
trap bench_net_cleanup EXIT
trap 'exit 130' INT TERM HUP
bench_net_path net $port

# The same machine for both: microvm, toro-run's default machine and every
# other module's, with virtio-net-device (virtio-mmio, modern interface)
# as toro-run attaches it there; QEMU's default offloads for the device.
machine="-M $BENCH_MICROVM -m $BENCH_RAM $nic"
# ip= before the program's arguments, on both command lines.
BENCH_LINUX_APPEND="$BENCH_LINUX_APPEND ip=$ip"

# ------------------------------------------------------------ the guests
toro=$BENCH_NET_TORO toro_why=
if [ "$toro" = no ]; then
	toro_why="Toro not measured (BENCH_NET_TORO=no)"
else
	img=$(bench_image net pvh)
	# The gate: without the socket system calls in its image, Toro's
	# socket() is ENOSYS and nothing else can run.
	if command -v "${NM:-nm}" >/dev/null 2>&1 && ! "${NM:-nm}" "$img" 2>/dev/null | grep -q ' sys_socket$'; then
		gate="Toro cannot run the network benchmark yet: its image has no socket system calls (no sys_socket in libtoro.a: lib/sys/sys_net.c and the TCP/IP stack are not built into it)"
		[ "$toro" = optional ] || bench_die "net: $gate; BENCH_NET_TORO=optional (or no) measures the Linux guest alone"
		bench_log "net: $gate; measuring the Linux guest alone (BENCH_NET_TORO=optional)"
		toro=no toro_why="Toro not measured: no socket system calls in its image yet"
	fi
fi
lcpio=
bench_linux_ok && lcpio=$(bench_linux_image net $kmods)

# measure WHO: one boot of WHO (toro or linux), the client's tests
# against it; appends "name value" lines to $BENCH_TMP/WHO.results.  On a
# failure shows the guest's output, sets $why and returns 1.
measure() {
	out=$BENCH_TMP/$1.out
	: > "$out"
	if [ "$1" = toro ]; then
		set -- toro -kernel "$img" -append "ip=$ip -- $gargs"
	else
		set -- linux -kernel "$BENCH_LINUX_BOOT" -initrd "$lcpio" -append "$(bench_linux_append "$BENCH_TSC_KHZ" $gargs)"
	fi
	who=$1
	shift
	$nsexec "$BENCH_TIMER" -t $gtimeout -m "net: listening" -k "toro: panic" -k "toro: fatal" -k "Kernel panic" \
		-o "$out" -- "$QEMU" $BENCH_QEMU_FLAGS $machine "$@" > "$BENCH_TMP/timer" &
	gpid=$!
	# The guest listens once it prints so (Linux loads its modules first).
	t=0
	while ! grep -q "net: listening" "$out" 2>/dev/null; do
		if ! kill -0 "$gpid" 2>/dev/null || [ $t -ge $(((BENCH_BOOT_TIMEOUT + 30) * 20)) ]; then
			bench_stop_guest
			bench_show "$out"
			why="the guest did not listen within $((BENCH_BOOT_TIMEOUT + 30)) s (output above)"
			return 1
		fi
		sleep 0.05
		t=$((t + 1))
	done
	$nsexec timeout $ctimeout "$BENCH_NETCLIENT" -v -t "$BENCH_NET_TEST_TIMEOUT" -w 10 -c "$BENCH_NET_CPS_CONC" \
		"$caddr" "$cport" $ctests > "$BENCH_TMP/client.out" 2> "$BENCH_TMP/client.err"
	cst=$?
	if [ $cst -ne 0 ]; then
		bench_stop_guest
		bench_show "$out"
		why="the client failed (status $cst): $(tr '\n' ' ' < "$BENCH_TMP/client.err")(guest output above)"
		return 1
	fi
	wait "$gpid"
	gpid=
	set -- $(cat "$BENCH_TMP/timer")
	# The guest's own account of what it moved.
	tr -d '\r' < "$out" > "$BENCH_TMP/guest"
	bad=
	for want in "sink: $bytes bytes" "source: $bytes bytes" "echo: $((BENCH_NET_RR + rr_warm)) requests" \
		"accept: $BENCH_NET_CPS connections" "done"; do
		grep -qx "net: $want" "$BENCH_TMP/guest" || bad="$bad; no \"net: $want\""
	done
	if [ "${4:-}" != 1 ] || [ -n "$bad" ]; then
		bench_show "$out"
		why="QEMU status ${4:-none}$bad (guest output above)"
		return 1
	fi
	awk '$1 == "RESULT" && NF == 4 && $3 ~ /^[0-9]+(\.[0-9]+)?$/ { print $2, $3 }' "$BENCH_TMP/client.out" > "$BENCH_TMP/last"
	for b in bulk_to_guest bulk_from_guest rr_rate rr_p50 rr_p99 cps; do
		awk -v b="$b" '$1 == b { f = 1 } END { exit !f }' "$BENCH_TMP/last" || {
			why="the client gave no $b"
			return 1
		}
	done
	cat "$BENCH_TMP/last" >> "$BENCH_TMP/$who.results"
	sed -n "s/^bench-netclient: rr: /net ($who): /p" "$BENCH_TMP/client.err" | while read -r l; do bench_log "$l"; done
}

bench_log "net: $BENCH_REPEAT boots of each, $BENCH_NET_BULK_MIB MiB each way, $BENCH_NET_RR round trips, $BENCH_NET_CPS connections"
: > "$BENCH_TMP/toro.results"
: > "$BENCH_TMP/linux.results"
linux_retry=
i=0
while [ $i -lt "$BENCH_REPEAT" ]; do
	if [ "$toro" != no ] && ! measure toro; then
		[ "$toro" = optional ] || bench_die "net (Toro): $why; BENCH_NET_TORO=optional (or no) measures the Linux guest alone"
		bench_log "net (Toro): $why; measuring the Linux guest alone (BENCH_NET_TORO=optional)"
		toro=no toro_why="Toro not measured: its run failed, the reason is in make bench's output (BENCH_NET_TORO=optional)"
		: > "$BENCH_TMP/toro.results"
	fi
	# The baseline gets one more boot when one fails: under a loaded
	# host QEMU 7.2's virtio-net has left a guest's transmit queue
	# stalled (Toro's driver kicks it again after 5 ms, Linux 6.1's
	# only reports a timeout), and a stalled baseline says nothing about
	# Toro.  A second failure ends the module; a retry is in the notes.
	if [ -n "$lcpio" ] && ! measure linux; then
		bench_log "net (Linux guest): $why; booting it once more"
		linux_retry="${linux_retry:+$linux_retry; }the Linux guest's boot $((i + 1)) failed and was booted again ($(printf '%s' "$why" | tr -d '|' | cut -c1-200))"
		measure linux || bench_die "net (Linux guest): $why"
	fi
	i=$((i + 1))
done

# vals WHO NAME: the values of one measurement.
vals() { awk -v n="$2" '$1 == n { printf " %s", $2 }' "$BENCH_TMP/$1.results"; }

# row NAME LABEL UNIT BETTER NOTE
row() {
	t=$(vals toro "$1")
	l=$(vals linux "$1")
	n="$path_note${5:+; $5}"
	[ -z "$toro_why" ] || n="$n; $toro_why"
	[ -n "$lcpio" ] || n="$n; $(bench_linux_missing)"
	[ -z "${linux_retry:-}" ] || n="$n; $linux_retry"
	bench_row "$2" "$3" "$4" "${t:--}" "${l:--}" - "$n"
}

conc_text="one at a time"
[ "$BENCH_NET_CPS_CONC" -eq 1 ] || conc_text="$BENCH_NET_CPS_CONC at a time"
bench_about "**net**: TCP through the NIC, one program (tests/bench/net.c) booted REPEAT times on \`-M $BENCH_MICROVM -m $BENCH_RAM\` (one CPU) as a Toro image and as the Linux guest's /init, each with the same virtio-net-device (virtio-mmio, modern interface, QEMU's default offloads, one MAC), and driven by the same host program, tests/bench/bench-netclient.c, which measures on the host's CLOCK_MONOTONIC. Network path: $path_about. The guest's address comes from Linux's \`ip=$ip\` option on both kernel command lines (Toro applies it itself; the Linux guest's initramfs carries Debian's virtio_mmio and virtio_net modules, and its PID 1, linux-init.c, applies it with ioctl(), as the program does again). The guest is a server on port $port serving, one after another: *bulk, host to guest*: the client writes $BENCH_NET_BULK_MIB MiB on one connection in 64 KiB write() calls, shuts its side down and waits for the guest's close, which comes after the guest has read every byte (64 KiB read() calls); *bulk, guest to host*: the guest writes $BENCH_NET_BULK_MIB MiB in 64 KiB write() calls and closes, the client reads (and checks) them all; both timed from the established connection to the end, in MB/s (10^6 bytes); *request/response*: one persistent connection, TCP_NODELAY on both ends, a $req-byte request and a $reply-byte reply, one at a time: $BENCH_NET_RR round trips after $rr_warm untimed ones; the rate and the median and 99th-percentile round trip of each boot; *connections*: $BENCH_NET_CPS connections, $conc_text: connect, the guest accepts, writes $cps_reply bytes and closes, the client reads to the end and closes; the rate over all but the first tenth (at most 50). Each test must end within $BENCH_NET_TEST_TIMEOUT s. A last connection, opened and closed by the client, tells the guest it may exit (an exit right after its last close() could stop the machine before the last reply left it); the guest then prints what it received and served, and the harness checks that against what the client sent. Goals (issue 6): *Toro vs Linux* of at least 2 on request/response and connections per second, at least 1.5 on bulk throughput."
row bulk_to_guest "net: TCP bulk, host to guest" "MB/s" higher "$BENCH_NET_BULK_MIB MiB; goal 1.5x Linux"
row bulk_from_guest "net: TCP bulk, guest to host" "MB/s" higher "$BENCH_NET_BULK_MIB MiB; goal 1.5x Linux"
row rr_rate "net: TCP request/response rate, $req B/$reply B, one connection" "req/s" higher "goal 2x Linux"
row rr_p50 "net: TCP request/response latency, median" "µs" lower "$req B/$reply B"
row rr_p99 "net: TCP request/response latency, 99th percentile" "µs" lower "$req B/$reply B"
row cps "net: TCP connections (accept, $cps_reply B reply, close)" "conn/s" higher "$conc_text; goal 2x Linux"
if [ "$BENCH_NET_PATH" = tap ]; then
	bench_net_ns_cmd net
	pre="ip netns exec NS "
else
	pre=
fi
bench_cmd "net: the client, after the guest prints \"net: listening\"" "${pre}bench-netclient -v -t $BENCH_NET_TEST_TIMEOUT -w 10 -c $BENCH_NET_CPS_CONC $caddr $cport $ctests"
[ -n "$toro_why" ] || bench_cmd "net (Toro)" "$pre$QEMU $BENCH_QEMU_FLAGS $machine -kernel $img -append 'ip=$ip -- $gargs'"
[ -n "$lcpio" ] && bench_cmd "net (Linux guest)" "$pre$QEMU $BENCH_QEMU_FLAGS $machine -kernel $BENCH_LINUX_BOOT -initrd $lcpio -append '$(bench_linux_append "$BENCH_TSC_KHZ" $gargs)'"
exit 0
