# Benchmark module "web": HTTP requests per second and latency of a
# static web server, driven from the host by wrk (Debian's package) with
# keep-alive on, against four servers booted one after another on the
# same machine (microvm, -smp 2, -m $BENCH_RAM, one virtio-net-device with
# one MAC), the same network path (lib.sh's bench_net_path) and the same
# two files, a 612-byte HTML page and a 64 KiB file:
#   toro     examples/webserver built for Toro (its own Makefile, the way
#            an application is built), the files in its initrd;
#   webserver the same C source built with musl-gcc -static by the same
#            Makefile (`make host-static`), in a Linux guest;
#   webcopy  the same in the same guest with --no-sendfile (the 64 KiB
#            file from its cache with writev instead of sendfile from the
#            initramfs): whichever Linux way is faster counts;
#   busybox  `busybox httpd -f` from Debian's busybox-static, in the same
#            Linux guest (it closes every connection after one response:
#            wrk then reconnects, and the rows show what that costs).
# The Linux guest's initramfs holds both servers and the files; its /init
# is linux-exec.c (with linux-init.c), which runs the server the kernel
# command line names.  Then, unless BENCH_WEB_PROF_SECS=0, two more Toro
# boots under the same load, one per file, sampled by toro-prof
# (gdbstub): the top of each profile goes to doc/PERFORMANCE.md.
#
# The environment:
#   BENCH_WEB_SECS       seconds of each measured wrk run (fast mode: 2)
#   BENCH_WEB_WARM       seconds of an unmeasured wrk run before each one
#   BENCH_WEB_CONNS      wrk's connections (-c); one wrk thread (-t1)
#   BENCH_WEB_SMP        -smp of every boot (2, as `make demo`)
#   BENCH_WEB_PROF_SECS  seconds profiled (0: no profile; fast mode: 0)
#   BENCH_WEB_PROF_METHOD toro-prof's method: gdb (default) or in-guest
#                        (Toro's system calls run with interrupts off, so
#                        in-guest samples charge their time to the user
#                        code that made them: gdb sees inside the kernel)
#   BENCH_WEB_PROF_RATE  samples per second (per vCPU)
#   BENCH_WEB_BUSYBOX    the busybox binary (/bin/busybox, busybox-static)
#   BENCH_WEB_KEEP       a directory to keep the profile in (web.prof and
#                        webserver.elf, for toro-prof report --lines, ...)
#   BENCH_NET_PATH       tap or user (lib.sh)
. "$BENCH_SRCDIR/lib.sh"

if bench_fast; then
	: "${BENCH_WEB_SECS:=2}" "${BENCH_WEB_WARM:=0}" "${BENCH_WEB_PROF_SECS:=0}"
else
	: "${BENCH_WEB_SECS:=10}" "${BENCH_WEB_WARM:=2}" "${BENCH_WEB_PROF_SECS:=5}"
fi
: "${BENCH_WEB_CONNS:=8}" "${BENCH_WEB_SMP:=2}" "${BENCH_WEB_PROF_METHOD:=gdb}" "${BENCH_WEB_PROF_RATE:=500}"
: "${BENCH_WEB_BUSYBOX:=/bin/busybox}" "${BENCH_WEB_KEEP:=}" "${WRK:=wrk}"
port=80
page=index.html page_size=612
big=64k.bin big_size=65536
top=${TORO_GCC%/tests/x86_64-toro-gcc}
PROF=$top/tools/toro-prof/toro-prof
websrc=$(CDPATH= cd -- "$BENCH_SRCDIR/../../examples/webserver" && pwd) ||
	bench_die "web: no examples/webserver next to tests/bench"
# The server's arguments, the same on both systems: no access log.
sargs="--port $port --root /site --no-log"
bargs="httpd -f -p $port -h /site"

command -v "$WRK" >/dev/null 2>&1 || bench_die "web: no wrk: install Debian's package wrk"
command -v curl >/dev/null 2>&1 || bench_die "web: no curl (it checks what the servers serve)"
case $BENCH_WEB_SECS$BENCH_WEB_WARM$BENCH_WEB_CONNS$BENCH_WEB_SMP$BENCH_WEB_PROF_SECS in *[!0-9]*) bench_die "web: BENCH_WEB_SECS, _WARM, _CONNS, _SMP and _PROF_SECS want whole numbers" ;; esac

trap bench_net_cleanup EXIT
trap 'exit 130' INT TERM HUP
bench_net_path web $port
# Several vCPUs: multi-threaded TCG, as toro-run and the threads module.
flags=$BENCH_QEMU_FLAGS
[ "$BENCH_WEB_SMP" -le 1 ] || flags=$(printf '%s\n' "$flags" | sed 's/-accel tcg\( \|$\)/-accel tcg,thread=multi\1/')
machine="-M $BENCH_MICROVM -m $BENCH_RAM -smp $BENCH_WEB_SMP $nic"
BENCH_LINUX_APPEND="$BENCH_LINUX_APPEND ip=$ip"
url=http://$caddr:$cport

# ------------------------------------------------------------ the files
# site/index.html: an HTML page of exactly 612 bytes (the size of nginx's
# welcome page), padded with a comment; site/64k.bin: 65536 bytes of text.
mksite() {
	mkdir -p "$1/site" || return 1
	{
		printf '<!DOCTYPE html>\n<html>\n<head>\n<title>Toro web benchmark</title>\n</head>\n<body>\n'
		printf '<h1>Toro web benchmark</h1>\n<p>A 612-byte page served by make bench (tests/bench/web.sh).</p>\n'
		printf '</body>\n</html>\n<!--'
	} > "$1/site/$page"
	n=$(wc -c < "$1/site/$page")
	{ head -c $((page_size - n - 4)) /dev/zero | tr '\0' 'x'; printf -- '-->\n'; } >> "$1/site/$page"
	yes 'Toro web benchmark: a 64 KiB file. 0123456789abcdefghijklmnopqrstuvwxyz' | head -c $big_size > "$1/site/$big"
	[ "$(wc -c < "$1/site/$page")" -eq $page_size ] && [ "$(wc -c < "$1/site/$big")" -eq $big_size ]
}

# Toro: the server and an initrd holding site/ (the server finds /site).
tdir=$BENCH_TMP/toro
mkdir -p "$tdir/root" && mksite "$tdir/root" || bench_die "web: cannot write the site"
site=$tdir/root/site
timeout 300 make -s -C "$tdir" -f "$websrc/Makefile" srcdir="$websrc" CC="$TORO_GCC" TORO_CFLAGS= \
	TORO_LIBS=-Wl,--defsym=toro_multiboot1_magic=0 webserver.elf >&2 ||
	bench_die "web: cannot build examples/webserver for Toro"
img=$tdir/webserver.elf		# booted through PVH (no multiboot1 magic), as net's
{ cpio_ino=0; bench_cpio_tree "$tdir/root" && bench_cpio_entry 'TRAILER!!!' 0 0 0; } > "$tdir/site.cpio" ||
	bench_die "web: cannot write Toro's initrd"

# The Linux guest: the same Makefile's musl-gcc -static build and busybox
# beside the site in the initramfs.
lcpio=
if bench_linux_ok; then
	ldir=$BENCH_TMP/linux
	mkdir -p "$ldir/root/bin" && mksite "$ldir/root" || bench_die "web: cannot write the site"
	if [ -n "${MUSL_GCC:-}" ]; then mgcc=$MUSL_GCC; else mgcc="${CC:-cc} -specs=$MUSL_LIBDIR/musl-gcc.specs"; fi
	timeout 300 make -s -C "$ldir" -f "$websrc/Makefile" srcdir="$websrc" MUSL_GCC="$mgcc" webserver-static >&2 ||
		bench_die "web: cannot build examples/webserver with $mgcc -static"
	cp "$ldir/webserver-static" "$ldir/root/webserver" || bench_die "web: cannot copy webserver-static"
	# A static busybox: no program interpreter (the initramfs has no libc).
	[ -f "$BENCH_WEB_BUSYBOX" ] && LC_ALL=C readelf -lW "$BENCH_WEB_BUSYBOX" > "$BENCH_TMP/bb.elf" 2>/dev/null &&
		! grep -q 'program interpreter' "$BENCH_TMP/bb.elf" ||
		bench_die "web: $BENCH_WEB_BUSYBOX is not a static busybox: install Debian's busybox-static"
	cp "$BENCH_WEB_BUSYBOX" "$ldir/root/bin/busybox" || bench_die "web: cannot copy $BENCH_WEB_BUSYBOX"
	lcpio=$(bench_linux_image linux-exec -t "$ldir/root" $BENCH_NET_KMODS)
fi

# ------------------------------------------------------------ one boot
# boot WHO [EXTRA QEMU ARGS]: starts WHO (toro, webserver, webcopy, busybox) in the
# background and waits until it serves both files byte for byte.  On a
# failure shows the guest's output, sets $why and returns 1.
boot() {
	who=$1
	shift
	out=$BENCH_TMP/$who.out
	case $who in
	toro) set -- -kernel "$img" -initrd "$tdir/site.cpio" -append "ip=$ip -- $sargs" "$@" ;;
	webserver) set -- -kernel "$BENCH_LINUX_BOOT" -initrd "$lcpio" -append "$(bench_linux_append "$BENCH_TSC_KHZ" /webserver $sargs)" "$@" ;;
	webcopy) set -- -kernel "$BENCH_LINUX_BOOT" -initrd "$lcpio" -append "$(bench_linux_append "$BENCH_TSC_KHZ" /webserver $sargs --no-sendfile)" "$@" ;;
	busybox) set -- -kernel "$BENCH_LINUX_BOOT" -initrd "$lcpio" -append "$(bench_linux_append "$BENCH_TSC_KHZ" /bin/busybox $bargs)" "$@" ;;
	esac
	# The time limit only stops a run that hangs: the harness stops the
	# server once measured.
	$nsexec "$BENCH_TIMER" -t $((BENCH_BOOT_TIMEOUT + 120 + 4 * (BENCH_WEB_SECS + BENCH_WEB_WARM) + BENCH_WEB_PROF_SECS)) \
		-k "toro: panic" -k "toro: fatal" -k "Kernel panic" \
		-o "$out" -- "$QEMU" $flags $machine "$@" > "$BENCH_TMP/timer" &
	gpid=$!
	t=0
	until $nsexec curl -fsS -o "$BENCH_TMP/got" --max-time 2 "$url/$page" 2> "$BENCH_TMP/curl.err"; do
		if ! kill -0 "$gpid" 2>/dev/null || [ $t -ge $(((BENCH_BOOT_TIMEOUT + 30) * 5)) ]; then
			bench_stop_guest
			bench_show "$out"
			why="it did not serve $url/$page within $((BENCH_BOOT_TIMEOUT + 30)) s (curl: $(tr '\n' ' ' < "$BENCH_TMP/curl.err"); guest output above)"
			return 1
		fi
		sleep 0.2
		t=$((t + 1))
	done
	for f in $page $big; do
		if ! $nsexec curl -fsS -o "$BENCH_TMP/got" --max-time 10 "$url/$f" 2> "$BENCH_TMP/curl.err" ||
			! cmp -s "$BENCH_TMP/got" "$site/$f"; then
			bench_stop_guest
			bench_show "$out"
			why="GET /$f did not return the file (curl: $(tr '\n' ' ' < "$BENCH_TMP/curl.err"))"
			return 1
		fi
	done
}

# wrk_run SECS PATH OUT: one wrk run, its output in OUT.
wrk_run() {
	$nsexec timeout $(($1 + 30)) "$WRK" -t1 -c"$BENCH_WEB_CONNS" -d"$1"s --latency "$url/$2" > "$3" 2>&1
}

# wrk_parse OUT -> "REQ_PER_S P50_MS P99_MS REQUESTS ERRORS", ERRORS the
# socket errors (connect, read, write, timeout) plus non-2xx/3xx replies;
# nothing if wrk gave no rate.
wrk_parse() {
	awk '
		function ms(v) {
			if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
			if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
			if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
			if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
			return -1
		}
		$1 == "Requests/sec:" { rps = $2 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/ requests in / { n = $1 }
		/Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/ { err += $NF }
		END {
			if (rps == "" || p50 == "" || p99 == "" || p50 < 0 || p99 < 0) exit 1
			printf "%s %.3f %.3f %d %d\n", rps, p50, p99, n, err
		}' "$1"
}

# measure WHO: one boot, wrk against each file; appends "FILE METRIC
# VALUE" lines to $BENCH_TMP/WHO.results.
measure() {
	boot "$1" || return 1
	for f in page big; do
		eval "path=\$$f"
		if [ "$BENCH_WEB_WARM" -gt 0 ]; then
			wrk_run "$BENCH_WEB_WARM" "$path" "$BENCH_TMP/wrk.warm" || true
		fi
		wrk_run "$BENCH_WEB_SECS" "$path" "$BENCH_TMP/wrk.out"
		st=$?
		if ! r=$(wrk_parse "$BENCH_TMP/wrk.out"); then
			sed 's/^/  wrk| /' "$BENCH_TMP/wrk.out" >&2
			bench_stop_guest
			bench_show "$BENCH_TMP/$1.out"
			why="wrk (status $st) gave no result for /$path (its output and the guest's above)"
			return 1
		fi
		set -- "$1" $r
		bench_log "web ($1, /$path): $2 req/s, p50 $3 ms, p99 $4 ms, $5 requests, $6 errors"
		if [ "$6" -gt 0 ]; then
			sed 's/^/  wrk| /' "$BENCH_TMP/wrk.out" >&2
			if [ "$1" = toro ]; then
				bench_stop_guest
				bench_show "$BENCH_TMP/$1.out"
				why="wrk counted $6 errors (socket errors or non-2xx/3xx replies) in $5 requests of /$path (above)"
				return 1
			fi
		fi
		printf '%s rps %s\n%s p50 %s\n%s p99 %s\n%s err %s\n%s n %s\n' \
			$f "$2" $f "$3" $f "$4" $f "$6" $f "$5" >> "$BENCH_TMP/$1.results"
		set -- "$1"
	done
	# Toro's own counters (the server's /stats: requests, the kernel's
	# heap and network), kept for whoever looks into a number.
	if [ "$1" = toro ]; then
		$nsexec curl -fsS --max-time 10 "$url/stats" > "$BENCH_TMP/stats" 2>/dev/null &&
			bench_log "web (toro): /stats after the runs: $(tr -d '\n' < "$BENCH_TMP/stats" | tr -s ' ')"
	fi
	bench_stop_guest
}

servers="toro"
[ -z "$lcpio" ] || servers="toro webserver webcopy busybox"
bench_log "web: $BENCH_REPEAT boots of each of: $servers; wrk -t1 -c$BENCH_WEB_CONNS -d${BENCH_WEB_SECS}s per file"
for w in $servers; do : > "$BENCH_TMP/$w.results"; done
i=0
while [ $i -lt "$BENCH_REPEAT" ]; do
	for w in $servers; do
		measure $w || bench_die "web ($w): $why"
	done
	i=$((i + 1))
done

# ------------------------------------------------------------ the rows
# vals WHO FILE METRIC: the values of every boot.
vals() { awk -v f="$2" -v m="$3" '$1 == f && $2 == m { printf " %s", $3 }' "$BENCH_TMP/$1.results"; }
errs() { awk -v f="$2" '$1 == f && $2 == "err" { e += $3 } $1 == f && $2 == "n" { n += $3 } END { printf "%d errors in %d requests", e, n }' "$BENCH_TMP/$1.results"; }
label() {
	case $1 in
	webserver) echo "the same server, musl-gcc -static, Linux guest" ;;
	webcopy) echo "the same server with --no-sendfile, Linux guest" ;;
	busybox) echo "busybox httpd, Linux guest" ;;
	esac
}
# linux_for FILE: the Linux servers compared on FILE: --no-sendfile
# changes nothing for the page (under --sendfile-min), so webcopy is the
# same server there and a second draw would only flatter Linux.
linux_for() { if [ "$1" = page ]; then echo webserver busybox; else echo webserver webcopy busybox; fi; }
# best FILE METRIC BETTER -> the Linux server with the best median.
best() {
	for w in $(linux_for "$1"); do
		echo "$w $(bench_median $(vals $w "$1" "$2"))"
	done | awk -v hi="$3" '{ v = $2 + 0; if (b == "" || (hi == "higher" ? v > bv : v < bv)) { b = $1; bv = v } } END { print b }'
}
for f in page big; do
	if [ $f = page ]; then fname="612 B page"; else fname="64 KiB file"; fi
	for m in rps p50 p99; do
		case $m in
		rps) what="requests/s"; unit="req/s"; better=higher ;;
		p50) what="latency, median"; unit="ms"; better=lower ;;
		p99) what="latency, 99th percentile"; unit="ms"; better=lower ;;
		esac
		tv=$(vals toro $f $m)	# not $t: bench_row sets t, l and r
		if [ -z "$lcpio" ]; then
			bench_row "web: $fname, $what" "$unit" $better "${tv:--}" - - "$path_note; $(bench_linux_missing)"
			continue
		fi
		bw=$(best $f $m $better)
		ref=-
		if [ $m = rps ]; then
			ref="=$(awk -v v="$(bench_median $(vals $bw $f rps))" 'BEGIN { printf "%.1f\n", 2 * v }')"
		fi
		for w in $(linux_for $f); do
			n="$path_note; Linux: $(label $w)"
			[ $w != "$bw" ] || n="$n; the best Linux figure"
			[ $m != rps ] || n="$n; target: 2x the best Linux median; Linux: $(errs $w $f)"
			[ $w != busybox ] || [ $m != rps ] || n="$n (no keep-alive: a connection a request)"
			bench_row "web: $fname, $what, vs $w" "$unit" $better "${tv:--}" "$(vals $w $f $m)" "$ref" "$n"
		done
	done
done
# Toro's own error count (none, or the module fails).
bench_log "web (toro): page: $(errs toro page); 64 KiB: $(errs toro big)"

warm_text=
[ "$BENCH_WEB_WARM" -eq 0 ] || warm_text="a ${BENCH_WEB_WARM} s wrk run that is not counted, then "
bench_about "**web**: a static web server under wrk (Debian's package), issue 7. The server is examples/webserver, built by its own Makefile for Toro (webserver.elf, through x86_64-toro-gcc; the files in its initrd) and, from the same C source, with \`musl-gcc -static\` (\`make host-static\`) for a Linux guest; a second Linux-guest server is \`busybox httpd -f\` from Debian's busybox-static. Each is booted REPEAT times on \`-M $BENCH_MICROVM -m $BENCH_RAM -smp $BENCH_WEB_SMP\` (\`-accel tcg,thread=multi\`) with the same virtio-net-device (virtio-mmio, modern interface, one MAC); the web server runs one worker a CPU (its default) and \`--no-log\`. The Linux guest's initramfs holds both servers, the files and Debian's virtio_mmio and virtio_net modules; its /init (tests/bench/linux-exec.c with linux-init.c) loads them, applies \`ip=$ip\` (Toro applies the same option itself) and runs the server the command line names. The web server runs twice in the Linux guest: as it is, which sends the 64 KiB file with \`sendfile\` from the initramfs (its files of 16 KiB and more on a RAM file system), and with \`--no-sendfile\`, which sends it from its cache with \`writev\`, as it does the page; for the 64 KiB file the better of the two counts (for the page, where the option changes nothing, only the first). Network path: $path_about. The files, the same for every server: /$page, an HTML page of exactly $page_size bytes, and /$big, $big_size bytes; before measuring, curl checks that the server returns both byte for byte. Then per file $warm_text\`wrk -t1 -c$BENCH_WEB_CONNS -d${BENCH_WEB_SECS}s --latency\` (keep-alive, wrk's default): its Requests/sec and its 50% and 99% latency. busybox httpd has no keep-alive: it closes the connection after each response, so wrk opens a new connection for each request (what a keep-alive client gets from it). Any socket error or non-2xx/3xx reply fails Toro's run; the Linux servers' counts are in the notes of the requests/s rows. Each Linux figure is in a row of its own, Toro's beside it; *the best Linux figure* marks the better Linux server per file and measure, so that row's *Toro vs Linux* is Toro vs the best Linux guest. Goal (issue 7): Toro at least 2x the best Linux guest's requests/s: the requests/s rows' target is twice the best Linux median, so their *Toro vs target* is at least 1 when the goal is met."
bench_cmd "web: wrk, per file" "${nsexec:+ip netns exec NS }wrk -t1 -c$BENCH_WEB_CONNS -d${BENCH_WEB_SECS}s --latency $url/$page (and /$big)"
[ "$BENCH_NET_PATH" != tap ] || bench_net_ns_cmd web
pre=${nsexec:+ip netns exec NS }
bench_cmd "web (Toro)" "$pre$QEMU $flags $machine -kernel webserver.elf -initrd site.cpio -append 'ip=$ip -- $sargs'"
if [ -n "$lcpio" ]; then
	bench_cmd "web (the web server in the Linux guest)" "$pre$QEMU $flags $machine -kernel $BENCH_LINUX_BOOT -initrd $lcpio -append '$(bench_linux_append "$BENCH_TSC_KHZ" /webserver $sargs)'"
	bench_cmd "web (the web server in the Linux guest, copying)" "$pre$QEMU $flags $machine -kernel $BENCH_LINUX_BOOT -initrd $lcpio -append '$(bench_linux_append "$BENCH_TSC_KHZ" /webserver $sargs --no-sendfile)'"
	bench_cmd "web (busybox httpd in the Linux guest)" "$pre$QEMU $flags $machine -kernel $BENCH_LINUX_BOOT -initrd $lcpio -append '$(bench_linux_append "$BENCH_TSC_KHZ" /bin/busybox $bargs)'"
fi

# ------------------------------------------------------------ the profile
[ "$BENCH_WEB_PROF_SECS" -gt 0 ] || exit 0
if [ ! -x "$PROF" ]; then
	bench_md "## Web server profile" "" "Not measured: toro-prof was not built (it needs libdw-dev, libelf-dev)."
	exit 0
fi
gport=$(python3 "$BENCH_SRCDIR/../free-port.py") || bench_die "web: no free TCP port"
sock=$BENCH_TMP/qmp.sock
case $BENCH_WEB_PROF_METHOD in
gdb) pm= ;;
in-guest) pm="--in-guest --qmp $sock" ;;
*) bench_die "web: BENCH_WEB_PROF_METHOD must be gdb or in-guest" ;;
esac
if [ "$BENCH_WEB_PROF_METHOD" = gdb ]; then
	how="\`toro-prof record --gdb\` at $BENCH_WEB_PROF_RATE rounds/s (each round stops the VM and samples every vCPU, so the load runs slower than in the rows), in kernel and application alike"
	pcmd="toro-prof record --gdb 127.0.0.1:PORT"
else
	how="\`toro-prof record --in-guest\` at $BENCH_WEB_PROF_RATE samples/s per vCPU; system calls run with interrupts off, so their time is charged to the user code that made them (\`syscall\`, \`__syscall_cp_c\`)"
	pcmd="toro-prof record --in-guest --gdb 127.0.0.1:PORT --qmp SOCK"
fi
bench_md "## Web server profile" "" "Toro's web server (-smp $BENCH_WEB_SMP) under \`wrk -t1 -c$BENCH_WEB_CONNS\`, one boot per file, sampled for $BENCH_WEB_PROF_SECS s by $how; the same boot as the rows' but for QEMU's \`-gdb\` and \`-qmp\`. *self%* is the share of the non-idle samples in which the function itself was running, *total%* the share in which it was anywhere on the stack."
# profile FILE: one profiled boot under wrk on FILE, its section.
profile() {
	prof=$BENCH_TMP/web-$1.prof
	boot toro -gdb "tcp:127.0.0.1:$gport" -qmp "unix:$sock,server=on,wait=off" || bench_die "web (Toro, profiled): $why"
	wrk_run $((BENCH_WEB_PROF_SECS + 4)) $1 "$BENCH_TMP/wrk.prof" &
	wpid=$!
	sleep 1
	$nsexec "$PROF" record $pm --gdb 127.0.0.1:$gport --wait 20 \
		--rate "$BENCH_WEB_PROF_RATE" --duration "$BENCH_WEB_PROF_SECS" -o "$prof" "$img" 2> "$BENCH_TMP/record.err" ||
		{ cat "$BENCH_TMP/record.err" >&2; bench_die "web: toro-prof record failed"; }
	sed 's/^/web: toro-prof: /' "$BENCH_TMP/record.err" | while read -r l; do bench_log "$l"; done
	wait $wpid
	r=$(wrk_parse "$BENCH_TMP/wrk.prof") || { sed 's/^/  wrk| /' "$BENCH_TMP/wrk.prof" >&2; bench_die "web: wrk gave no result under the profiler"; }
	bench_stop_guest
	"$PROF" report --limit 0 "$prof" > "$BENCH_TMP/report" || bench_die "web: toro-prof report failed"
	if [ -n "${BENCH_WEB_KEEP:-}" ]; then
		mkdir -p "$BENCH_WEB_KEEP" && cp "$prof" "$img" "$BENCH_WEB_KEEP/" &&
			bench_log "web: kept the profile: toro-prof report --image $BENCH_WEB_KEEP/webserver.elf $BENCH_WEB_KEEP/web-$1.prof"
	fi
	set -- "$1" $r
	# The report: "# ..." header lines, a column header, then rows "SELF%
	# TOTAL% CPU0%... FUNCTION"; the function is the last field.
	copy=$(awk '$1 ~ /^[0-9.]+$/ && $NF ~ /^_*(mem(cpy|move)|memcpy_|memmove_)/ { s += $1 } END { printf "%.1f\n", s }' "$BENCH_TMP/report")
	bench_md "" "### /$1" "" "$2 req/s, p99 $4 ms, $6 errors while profiled. The top 15 by self%:" ""
	# Its header, less the image's path: method, rate, time stopped, samples, idle.
	sed -n -e 's/^# image [^,]*, \(method .*\)$/\1/p' -e 's/^# \(guest stopped .*\)$/\1/p' -e 's/^# \(samples: .*\)$/\1/p' \
		-e 's/^# \(in-guest: .*\)$/\1/p' "$BENCH_TMP/report" | while read -r l; do bench_md "- $l"; done
	bench_md "" "| self% | total% | function |" "| ---: | ---: | --- |"
	awk '$1 ~ /^[0-9.]+$/ { print $1 "\t" $2 "\t" $NF }' "$BENCH_TMP/report" | head -n 15 |
		while IFS='	' read -r s t fn; do bench_md "| $s | $t | \`$fn\` |"; done
	# toro-prof counts a sample as idle only in idle_loop itself or at a hlt:
	# what idle_loop calls (arming the timer before halting) counts as work.
	idle_calls=$(awk '$1 ~ /^[0-9.]+$/ && $NF == "idle_loop" { print $2; exit }' "$BENCH_TMP/report")
	bench_md "" "Copying (memcpy, memmove and their variants): **$copy%** of the non-idle samples (goal, issue 7: it must not dominate)."
	[ -z "$idle_calls" ] || bench_md "" "Of the non-idle samples, ${idle_calls}% have \`idle_loop\` on the stack (what it calls before halting, such as re-arming the timer): the idle loop's own cost, not serving."
}
profile $page
profile $big
bench_cmd "web: the profile" "$pcmd --rate $BENCH_WEB_PROF_RATE --duration $BENCH_WEB_PROF_SECS -o web.prof webserver.elf; toro-prof report web.prof"
exit 0
