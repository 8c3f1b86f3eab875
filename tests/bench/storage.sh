# Benchmark module "storage": virtio-blk sequential read and write and
# 4 KiB random reads on a raw disk, and one cold read of a big file from a
# FAT32 volume and from a virtio-fs share (tests/bench/storage.c), measured
# inside the guest, Toro and the Linux guest booted on the same machine
# with the same disks and the same share.
. "$BENCH_SRCDIR/lib.sh"

# MiB of the raw disk read and written, random 4 KiB reads, and MiB of
# the file read from FAT and from virtio-fs.  The fast mode (make check)
# only proves that every number comes out.
if bench_fast; then
	: "${BENCH_STORAGE_MIB:=4}" "${BENCH_STORAGE_OPS:=100}" "${BENCH_STORAGE_FILE_MIB:=2}"
else
	: "${BENCH_STORAGE_MIB:=256}" "${BENCH_STORAGE_OPS:=5000}" "${BENCH_STORAGE_FILE_MIB:=64}"
fi
# A boot moves about 3 x MIB + 2 x FILE_MIB; under TCG either system
# manages well over 10 MiB/s, and Linux loads its modules first.
timeout=$((BENCH_BOOT_TIMEOUT + 30 + (3 * BENCH_STORAGE_MIB + 2 * BENCH_STORAGE_FILE_MIB) / 10))
# The FAT32 volume: 4 KiB clusters, as mkfs.fat makes them for volumes of
# 256 MiB and more (a real disk's, not the 512-byte ones it picks for a
# small image, which no one reads a big file from), hence 320 MiB, enough
# clusters for FAT32.  The image is sparse: it costs the file's size.
fat_kib=327680
# The Linux guest's drivers (Debian builds them as modules; microvm's
# virtio devices are virtio-mmio, found through ACPI, virtio_pci is there
# in case BENCH_MICROVM names a PCI machine), FAT with the code page and
# character sets its mount asks for, and virtio-fs.
kmods="virtio_mmio virtio_pci virtio_blk vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859_1 virtiofs"
tag=bench	# storage.c's SHARE_TAG

PATH=$PATH:/usr/sbin:/sbin
for tool in mkfs.fat mcopy; do
	command -v $tool >/dev/null 2>&1 || bench_die "storage: no $tool: install dosfstools and mtools"
done
# virtiofsd where toro-run looks for it.
virtiofsd=${TORO_VIRTIOFSD:-}
if [ -z "$virtiofsd" ]; then
	for f in /usr/lib/qemu/virtiofsd /usr/libexec/virtiofsd /usr/lib/virtiofsd; do
		[ -x "$f" ] && { virtiofsd=$f; break; }
	done
	[ -n "$virtiofsd" ] || virtiofsd=$(command -v virtiofsd) ||
		bench_die "storage: no virtiofsd: install qemu-system-common (or set TORO_VIRTIOFSD)"
fi

img=$(bench_image storage pvh)
lcpio=
bench_linux_ok && lcpio=$(bench_linux_image storage $kmods)

# The disks and the share, made once; every boot of both systems uses
# them.  The raw disk is random data (the guests overwrite it with their
# own pattern in the write test, the same for both); the big file is the
# same bytes on the FAT volume and in the shared directory.
raw=$BENCH_TMP/raw.img
fat=$BENCH_TMP/fat.img
share=$BENCH_TMP/share
mkdir -p "$share" || bench_die "cannot create $share"
head -c $((BENCH_STORAGE_MIB * 1048576)) /dev/urandom > "$raw" &&
head -c $((BENCH_STORAGE_FILE_MIB * 1048576)) /dev/urandom > "$share/big.bin" ||
	bench_die "cannot write the disk images in $BENCH_TMP"
mkfs.fat -F 32 -s 8 -n BENCH -C "$fat" $fat_kib > "$BENCH_TMP/mkfs.log" 2>&1 &&
mcopy -i "$fat" "$share/big.bin" ::/big.bin 2>> "$BENCH_TMP/mkfs.log" || {
	cat "$BENCH_TMP/mkfs.log" >&2
	bench_die "storage: mkfs.fat or mcopy failed"
}

# virtio-fs as toro-run --share does it: a virtiofsd a boot with toro-run's
# flags (cache=none: the guest's reads all go to the host), QEMU's memory
# in a shared memfd that virtiofsd maps.  A socket path must fit in 108
# bytes.
sock=$BENCH_TMP/vfs.sock
sockdir=
if [ ${#sock} -gt 100 ]; then
	sockdir=$(mktemp -d /tmp/toro-bench-vfs.XXXXXX) || bench_die "cannot make a socket directory"
	sock=$sockdir/vfs.sock
fi
vpid=
stop_virtiofsd() {
	if [ -n "$vpid" ]; then
		kill -TERM "$vpid" 2>/dev/null
		wait "$vpid" 2>/dev/null
		vpid=
	fi
}
trap 'stop_virtiofsd; [ -z "$sockdir" ] || rm -rf "$sockdir"' EXIT
trap 'exit 130' INT TERM HUP
vfs_cmd="$virtiofsd --socket-path=$sock -o source=$share -o cache=none -o log_level=warn"
start_virtiofsd() {
	rm -f "$sock"
	$vfs_cmd < /dev/null > "$BENCH_TMP/virtiofsd.log" 2>&1 &
	vpid=$!
	t=0
	while [ ! -S "$sock" ] && [ $t -lt 100 ] && kill -0 "$vpid" 2>/dev/null; do
		sleep 0.05
		t=$((t + 1))
	done
	if [ ! -S "$sock" ]; then
		sed 's/^/  | /' "$BENCH_TMP/virtiofsd.log" >&2
		bench_die "storage: virtiofsd did not start: $vfs_cmd"
	fi
}

# The same machine and devices for both: microvm (virtio-mmio, modern
# interface), two virtio-blk disks (the raw one first; storage.c tells
# them apart by their contents, since each kernel numbers them its own
# way), one vhost-user-fs device.  The disks use QEMU's default cache
# mode (writeback: the host's page cache, so reads come from host memory
# for both guests; a guest's flush makes QEMU sync the image file).
machine="-M $BENCH_MICROVM -m $BENCH_RAM -object memory-backend-memfd,id=mem,size=$BENCH_RAM,share=on -machine memory-backend=mem -global virtio-mmio.force-legacy=false -drive file=$raw,format=raw,if=none,id=disk0 -device virtio-blk-device,drive=disk0 -drive file=$fat,format=raw,if=none,id=disk1 -device virtio-blk-device,drive=disk1 -chardev socket,id=fs0,path=$sock -device vhost-user-fs-device,chardev=fs0,tag=$tag"
args="$BENCH_STORAGE_MIB $BENCH_STORAGE_OPS"
expected="blk_seq_read blk_rand_read_4k blk_seq_write fat_read virtiofs_read"

# results WHO OUTFILE STATUS: appends "name value" lines to
# $BENCH_TMP/WHO.results; dies unless every benchmark printed one.
results() {
	tr -d '\r' < "$2" | awk '$1 == "RESULT" && NF == 4 && $3 ~ /^[0-9]+(\.[0-9]+)?$/ { print $2, $3 }' > "$BENCH_TMP/last"
	missing=
	for b in $expected; do
		awk -v b="$b" '$1 == b { f = 1 } END { exit !f }' "$BENCH_TMP/last" || missing="$missing $b"
	done
	if [ "$3" != 1 ] || [ -n "$missing" ]; then
		sed 's/^/  | /' "$2" | tail -n 40 >&2
		bench_die "storage ($1): QEMU status $3${missing:+, no result for$missing}, output above"
	fi
	cat "$BENCH_TMP/last" >> "$BENCH_TMP/$1.results"
}

bench_log "storage: $BENCH_REPEAT boots of each, $BENCH_STORAGE_MIB MiB raw disk, $BENCH_STORAGE_OPS random reads, $BENCH_STORAGE_FILE_MIB MiB file"
: > "$BENCH_TMP/toro.results"
: > "$BENCH_TMP/linux.results"
out=$BENCH_TMP/storage.out
i=0
while [ $i -lt "$BENCH_REPEAT" ]; do
	start_virtiofsd
	set -- $(bench_boot "$out" RESULT $timeout $machine -kernel "$img" -append "-- $args")
	stop_virtiofsd
	results toro "$out" "$4"
	if [ -n "$lcpio" ]; then
		start_virtiofsd
		set -- $(bench_linux_boot "$out" RESULT $timeout "$lcpio" "$BENCH_TSC_KHZ" "$machine" $args)
		stop_virtiofsd
		results linux "$out" "$4"
	fi
	i=$((i + 1))
done

# vals WHO NAME: the values of one benchmark.
vals() { awk -v n="$2" '$1 == n { printf " %s", $2 }' "$BENCH_TMP/$1.results"; }

# row NAME LABEL UNIT NOTE: higher is better in every row.
row() {
	l=$(vals linux "$1")
	n=$4
	[ -n "$lcpio" ] || n="${n:+$n; }$(bench_linux_missing)"
	bench_row "$2" "$3" higher "$(vals toro "$1")" "${l:--}" - "$n"
}

bench_about "**storage**: disk and file throughput in one program (tests/bench/storage.c), booted REPEAT times on \`-M $BENCH_MICROVM -m $BENCH_RAM\` as a Toro image and as the Linux guest's /init, with the same devices: two virtio-blk disks (virtio-mmio, QEMU's default writeback cache, so the data comes from and goes to the host's page cache) and a virtio-fs share served by virtiofsd with toro-run's flags (\`-o cache=none\`), guest memory in a shared memfd as \`toro-run --share\` sets it up. The Linux guest's initramfs carries Debian's virtio_mmio, virtio_blk, vfat (with nls_cp437 and nls_ascii) and virtiofs modules and what they depend on; its /init (tests/bench/linux-init.c) loads them with finit_module() and mounts devtmpfs before the program starts. The program times itself with CLOCK_MONOTONIC and prints \`RESULT name value unit\`. *sequential read/write*: the first $BENCH_STORAGE_MIB MiB of the raw disk (/dev/vda or /dev/vdb, whichever has no FAT volume), in 1 MiB pread()/pwrite() requests from one thread, the write followed by fsync() inside the timing; the disk is opened with O_DIRECT on both (Linux would otherwise read from and write to its page cache; Toro has none and ignores the flag). *random 4 KiB reads*: $BENCH_STORAGE_OPS pread() calls at 4 KiB-aligned offsets in the same range from a fixed xorshift sequence, one at a time (queue depth 1). The sequential and random reads follow an untimed warm-up. *file read*: a $BENCH_STORAGE_FILE_MIB MiB file (the same bytes in both places), read once to its end in 1 MiB read() calls right after the program mounts the file system (FAT32 read-only, 4 KiB clusters, made with mkfs.fat and mcopy; virtio-fs with tag $tag): a cold read on both, Linux through its page cache and readahead, Toro straight from the device."
row blk_seq_read "storage: virtio-blk sequential read, 1 MiB requests" "MiB/s" "O_DIRECT"
row blk_seq_write "storage: virtio-blk sequential write + fsync, 1 MiB requests" "MiB/s" "O_DIRECT"
row blk_rand_read_4k "storage: virtio-blk random 4 KiB reads, queue depth 1" "IOPS" "O_DIRECT"
row fat_read "storage: FAT32 file read, cold, 1 MiB read() calls" "MiB/s" ""
row virtiofs_read "storage: virtio-fs file read, cold, 1 MiB read() calls" "MiB/s" "virtiofsd -o cache=none"
bench_cmd "storage: virtiofsd, started before each boot" "$vfs_cmd"
bench_cmd "storage (Toro)" "$QEMU $BENCH_QEMU_FLAGS $machine -kernel $img -append '-- $args'"
[ -n "$lcpio" ] && bench_linux_cmd "storage (Linux guest)" "$lcpio" "$BENCH_TSC_KHZ" "$machine" $args
exit 0
