# Shared helpers for the shell tests: TAP output and guest boots.
# Source it; the test environment (Makefile.am) exports top_srcdir,
# top_builddir, TORO_RUN, TORO_GCC, QEMU, OVMF, MUSL_GCC.

tap_n=0
tap_fail=0

tap_plan() { echo "1..$1"; }

# ok CONDITION-EXIT-STATUS DESCRIPTION
tap_result() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_fail=1
	fi
}

tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# Prints the file (as TAP comments) when the previous check failed.
tap_show_on_fail() {
	[ "$1" -eq 0 ] || sed 's/^/#   /' "$2"
}

tap_done() { exit $tap_fail; }

# A scratch directory removed at exit.
test_tmpdir() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/toro-test.XXXXXX") || exit 99
	trap 'rm -rf "$TMP"' EXIT
}

have_qemu() { [ -n "${QEMU:-}" ] && [ -x "$QEMU" ]; }

# expect_status WANT GOT DESCRIPTION
expect_status() {
	[ "$1" = "$2" ]
	r=$?
	tap_result $r "$3 (exit status $2, want $1)"
}

# expect_grep FILE PATTERN DESCRIPTION (extended regex)
expect_grep() {
	grep -Eq -- "$2" "$1"
	r=$?
	tap_result $r "$3"
	tap_show_on_fail $r "$1"
}

# guest_tap NAME OUTFILE STATUS MIN: reports each "ok N - ..." or "not ok
# N - ..." line a guest printed as a result of its own, prefixed "NAME: ",
# then checks that the guest's plan ("1..N") was met with at least MIN
# checks and that it exited 0 (STATUS).  Shows the output on a failure.
guest_tap() {
	tr -d '\r' <"$2" | awk -v name="$1" '
		/^(not )?ok [0-9]+ - / {
			bad = /^not /
			sub(/^(not )?ok [0-9]+ - /, "")
			print bad " " name ": " $0
		}' >"$TMP/guest-tap"
	while read -r bad line; do
		tap_result "$bad" "$line"
	done <"$TMP/guest-tap"
	want=$(tr -d '\r' <"$2" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
	got=$(wc -l <"$TMP/guest-tap")
	complete=1
	[ -n "$want" ] && [ "$got" -eq "$want" ] && [ "$got" -ge "$4" ] && complete=0
	tap_result $complete "$1: every check reported (${got} of ${want:-?})"
	expect_status 0 "$3" "$1: exit status"
	if [ "$3" -ne 0 ] || [ $complete -ne 0 ] || grep -q '^1 ' "$TMP/guest-tap"; then
		tap_show_on_fail 1 "$2"
	fi
}
