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
