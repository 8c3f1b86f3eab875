# Benchmark module "size": how big a hello world image is.
. "$BENCH_SRCDIR/lib.sh"

img=$(bench_image hello)
stripped=$BENCH_TMP/hello.stripped.elf
"$STRIP" -o "$stripped" "$img" || bench_die "$STRIP failed"
full=$(wc -c < "$img" | tr -d ' ')
small=$(wc -c < "$stripped" | tr -d ' ')
# Loaded bytes per segment kind, for the note.
segs=$(LC_ALL=C readelf -lW "$stripped" 2>/dev/null | awk '
	function hex(s,   i, n) {
		n = 0; s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n
	}
	$1 == "LOAD" { f = hex($5); m = hex($6)
		if ($0 ~ / R E /) x += f; else if ($0 ~ / RW /) { d += f; b += m - f } else r += f }
	END { printf "segments: text %d, rodata %d, data %d, bss %d", x, r, d, b }')

bench_about "**size**: the hello world (tests/bench/hello.c, \`printf(\"hello %f\\n\", 2.5)\`) built with \`x86_64-toro-gcc -O2\` over the build tree, then \`strip\`. Baseline: the 64 KiB target (65,536 bytes); Toro's Pascal hello world is 64,264 bytes stripped. The unstripped size is for information."
bench_row "size: hello world, stripped" bytes lower "$small" "=65536" "${segs:-}; Pascal Toro: 64264"
bench_row "size: hello world, unstripped" bytes lower "$full" - "as built, with symbols"
bench_cmd "size" "x86_64-toro-gcc -O2 hello.c -o hello.elf && $STRIP -o hello.stripped.elf hello.elf"
