# Benchmark module "size": how big a hello world image is: Toro's, and
# what the Linux guest boots to run the same program.
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

linux=- note="Toro ${segs:-}; Pascal Toro: 64264"
if bench_linux_ok; then
	cpio=$(bench_linux_image hello)
	bz=$(wc -c < "$BENCH_LINUX_KERNEL" | tr -d ' ')
	rd=$(wc -c < "$cpio" | tr -d ' ')
	init=$(wc -c < "${cpio%.cpio}.linux" | tr -d ' ')
	linux=$((bz + rd))
	note="$note; Linux: bzImage $bz + initramfs $rd (its static /init: $init)"
	if [ "$BENCH_LINUX_BOOT" != "$BENCH_LINUX_KERNEL" ]; then
		note="$note; the vmlinux booted through PVH: $(wc -c < "$BENCH_LINUX_BOOT" | tr -d ' ')"
	fi
else
	note="$note; $(bench_linux_missing)"
fi

bench_about "**size**: the hello world (tests/bench/hello.c, \`printf(\"hello %f\\n\", 2.5)\`) built with \`x86_64-toro-gcc -O2\` over the build tree, then \`strip\`: everything Toro needs to run it. For the Linux guest, everything it needs to run the same program: the kernel as Debian packages it (the XZ-compressed bzImage \`/boot/vmlinuz-*\`) plus the initramfs the harness builds (an uncompressed newc cpio holding /dev/console and the program built with \`musl-gcc -static -O2\` and tests/bench/linux-init.c as /init); no kernel module is needed, so none is counted. The uncompressed vmlinux the boot rows use is larger (see the note). Target: 64 KiB (65,536 bytes); Toro's Pascal hello world is 64,264 bytes stripped. The unstripped size is for information."
bench_row "size: hello world, stripped" bytes lower "$small" "$linux" "=65536" "$note"
bench_row "size: hello world, unstripped" bytes lower "$full" - - "Toro as built, with symbols"
bench_cmd "size (Toro)" "x86_64-toro-gcc -O2 hello.c -o hello.elf && $STRIP -o hello.stripped.elf hello.elf"
bench_cmd "size (Linux guest)" "musl-gcc -static -O2 hello.c linux-init.c -o hello.linux; hello.cpio: /dev, /dev/console, hello.linux as /init"
