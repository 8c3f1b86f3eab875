#!/bin/sh
# Runs the web server's end-to-end checks (webserver-check.py) against
# examples/webserver built for the host, as an ordinary Linux program on
# 127.0.0.1: the server's HTTP, limits, cache and threads checked without
# Toro's network stack, and the harness checked against a known-good
# peer.  TAP on stdout, plan at the end.
#
#   tests/e2e/webserver-host.sh [gcc|musl|asan|valgrind]
#
# gcc: cc -O2 -pthread; musl: musl-gcc -static; asan: cc with
# -fsanitize=address,undefined (any report fails); valgrind: memcheck,
# errors and definite/indirect leaks fail.  The environment variables of
# webserver-check.py apply (WEBSERVER_LOAD_SECONDS, ...).
mode=${1:-gcc}
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
top_srcdir=${top_srcdir:-$(CDPATH= cd -- "$here/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
test_tmpdir
ex=$top_srcdir/examples/webserver
check="python3 $top_srcdir/tests/e2e/webserver-check.py"
runner=
cflags=
case $mode in
gcc) target=host bin=webserver ;;
musl) target=host-static bin=webserver-static
	if ! command -v "${MUSL_GCC:-musl-gcc}" >/dev/null 2>&1; then
		echo "1..0 # SKIP no musl-gcc"
		exit 0
	fi ;;
asan) target=host bin=webserver
	cflags='-O1 -g -Wall -Wextra -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' ;;
valgrind) target=host bin=webserver
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "1..0 # SKIP no valgrind"
		exit 0
	fi
	runner="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
	# Under valgrind one core does the work of all the threads.
	: "${WEBSERVER_CONCURRENCY:=100}"
	export WEBSERVER_CONCURRENCY ;;
*) echo "usage: $0 [gcc|musl|asan|valgrind]" >&2; exit 2 ;;
esac

if [ -n "$cflags" ]; then
	${MAKE:-make} -s -C "$TMP" -f "$ex/Makefile" srcdir="$ex" $target HOST_CFLAGS="$cflags" >"$TMP/build.log" 2>&1
else
	${MAKE:-make} -s -C "$TMP" -f "$ex/Makefile" srcdir="$ex" $target >"$TMP/build.log" 2>&1
fi
r=$?
[ $r -eq 0 ] && ! grep -q 'warning:' "$TMP/build.log"
tap_result $? "examples/webserver builds for the host ($mode) without warnings"
tap_show_on_fail $r "$TMP/build.log"
[ $r -eq 0 ] || { tap_plan $tap_n; tap_done; }

cp -R "$ex/site" "$TMP/site"
$check prepare "$TMP/site" >/dev/null
tap_result $? "webserver-check.py prepare"

ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	$runner "$TMP/$bin" --port 0 --bind 127.0.0.1 --root "$TMP/site" \
	--max-conns "${WEBSERVER_MAX_CONNS:-300}" --header-timeout 3 --idle-timeout 4 \
	>"$TMP/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 300); do
	port=$(sed -n 's|^webserver: serving .* on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$TMP/server.log")
	[ -n "$port" ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ]
r=$?
tap_result $r "the server starts and reports its port ($port)"
tap_show_on_fail $r "$TMP/server.log"

if [ -n "$port" ]; then
	WEBSERVER_TAP_NO_PLAN=1 WEBSERVER_TAP_FIRST=$((tap_n + 1)) $check check "http://127.0.0.1:$port" "$TMP/site" >"$TMP/check.out" 2>&1
	cat "$TMP/check.out"
	tap_n=$((tap_n + $(grep -cE '^(not )?ok [0-9]+' "$TMP/check.out")))
	grep -q '^not ok' "$TMP/check.out" && tap_fail=1
fi

kill -TERM $pid 2>/dev/null
wait $pid
status=$?
expect_status 0 $status "the server stops cleanly on SIGTERM (and $mode finds nothing)"
! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|==[0-9]+== (Invalid|Conditional|Syscall|Mismatched)|definitely lost|indirectly lost' "$TMP/server.log"
r=$?
tap_result $r "no sanitizer or memcheck report in the server's output"
if [ $r -ne 0 ] || [ $status -ne 0 ]; then
	grep -vE '^[0-9.]+ - - \[' "$TMP/server.log" | tail -60 | sed 's/^/#   /'
fi
tap_diag "access log: $(grep -cE '^[0-9.-]+ - - \[' "$TMP/server.log") lines"
tap_plan $tap_n
tap_done
