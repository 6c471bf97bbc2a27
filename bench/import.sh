#!/bin/sh
# bench/import.sh: volume import throughput (storage.md 7.9).
#
# A sparse image of BENCH_IMPORT_GIB GiB (default 4; 0 skips the
# benchmark) with 1 MiB of random data every 64 MiB is imported into
# work:private of a running broker (file pool, fixture core-listing)
# through the real service executable, and compared with copies of the
# same file on the same file system:
#
#   service, stdin = pipe    admin.vm.volume.ImportWithSize, size line and
#                            image through a pipe (cat), as from qrexec
#   service, stdin = file    then admin.vm.volume.Import (the volume now
#                            has the image's size), stdin redirected from
#                            the image
#   dd (reference), pipe/file the reference script's copy: dd bs=128K
#                            iflag=count_bytes,fullblock
#                            conv=sparse,notrunc,nocreat,fdatasync, stdin
#                            through a pipe (cat) or from the file
#   cp --sparse=always       plain cp, then sync FILE (cp does not fsync;
#                            the import does)
#
# Every import is checked byte for byte (cmp) against the source.  The
# page cache is warm (the source is read before the first run).  MB/s is
# the logical image size (10^6 bytes) over wall-clock seconds.
#
# Environment: BENCH_IMPORT_GIB, TMPDIR (where the files go: the "same
# disk" of the comparison).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BROKER=$ROOT/broker/qubes-broker
SVC=$ROOT/services/qubes-admin-vm-volume-import
GIB=${BENCH_IMPORT_GIB:-4}
case $GIB in
''|*[!0-9]*) echo "BENCH_IMPORT_GIB must be a whole number" >&2; exit 2 ;;
esac
[ "$GIB" -gt 0 ] || exit 0
SIZE=$((GIB * 1024 * 1024 * 1024))

T=$(mktemp -d "${TMPDIR:-/tmp}/qubes-bench-import.XXXXXX")
PID=
cleanup() {
	[ -z "$PID" ] || { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
	rm -rf "$T"
}
trap cleanup EXIT
sh "$ROOT/tests/conformance/mkbase.sh" "$ROOT/tests/conformance/core-listing" \
    "$T/base"
mkdir -p "$T/run" "$T/rpc"
"$BROKER" --base-dir "$T/base" --run-dir "$T/run" \
    --libvirt-uri test:///default 2>"$T/broker.log" &
PID=$!
i=0
while [ ! -S "$T/run/qubesd.internal.sock" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ln -s "$SVC" "$T/rpc/admin.vm.volume.Import"
ln -s "$SVC" "$T/rpc/admin.vm.volume.ImportWithSize"
IMG=$T/base/appvms/work/private.img

# the source: sparse, 1 MiB of random data every 64 MiB
SRC=$T/src.img
truncate -s "$SIZE" "$SRC"
off=0
while [ $off -lt $((GIB * 1024)) ]; do
	dd if=/dev/urandom of="$SRC" bs=1M count=1 seek=$off conv=notrunc \
	    status=none
	off=$((off + 64))
done
cat "$SRC" >/dev/null

now() { date +%s.%N; }
row() {
	awk -v l="$1" -v s="$SIZE" -v a="$2" -v b="$3" -v c="$4" 'BEGIN {
		d = b - a
		printf "| %-26s | %5.2f | %7.2f | %8.0f | %-5s |\n", l,
		    s / 1073741824, d, s / 1e6 / d, c
	}'
}
check() {
	if cmp -s "$SRC" "$1"; then echo ok; else echo BAD; fi
}
svc() {
	env -i PATH=/usr/bin:/bin \
	    QUBESD_INTERNAL_SOCKET="$T/run/qubesd.internal.sock" \
	    QREXEC_REMOTE_DOMAIN=dom0 QREXEC_SERVICE_FULL_NAME="$1+private" \
	    QREXEC_SERVICE_ARGUMENT=private QREXEC_REQUESTED_TARGET_TYPE=name \
	    QREXEC_REQUESTED_TARGET=work "$T/rpc/$1" private >"$T/reply"
	if [ "$(head -c 1 "$T/reply")" != 0 ]; then
		echo "import failed:" >&2
		tr '\0' ' ' <"$T/reply" >&2
		echo >&2
		exit 1
	fi
}

echo "| import of a sparse image   | GiB   | seconds | MB/s     | check |"
echo "|----------------------------|-------|---------|----------|-------|"

t0=$(now)
{ printf '%s\n' "$SIZE"; cat "$SRC"; } | svc admin.vm.volume.ImportWithSize
t1=$(now)
row "service, stdin = pipe" "$t0" "$t1" "$(check "$IMG")"

# the volume has the image's size now: a plain Import takes the file
t0=$(now)
svc admin.vm.volume.Import <"$SRC"
t1=$(now)
row "service, stdin = file" "$t0" "$t1" "$(check "$IMG")"

ddcopy() {
	dd bs=128K of="$T/dd.img" count="$SIZE" iflag=count_bytes,fullblock \
	    conv=sparse,notrunc,nocreat,fdatasync status=none
}
truncate -s "$SIZE" "$T/dd.img"
t0=$(now)
cat "$SRC" | ddcopy
t1=$(now)
row "dd (reference), pipe" "$t0" "$t1" "$(check "$T/dd.img")"
rm -f "$T/dd.img"
truncate -s "$SIZE" "$T/dd.img"
t0=$(now)
ddcopy <"$SRC"
t1=$(now)
row "dd (reference), file" "$t0" "$t1" "$(check "$T/dd.img")"
rm -f "$T/dd.img"

t0=$(now)
cp --sparse=always "$SRC" "$T/cp.img"
sync "$T/cp.img"
t1=$(now)
row "cp --sparse=always + sync" "$t0" "$t1" "$(check "$T/cp.img")"
rm -f "$T/cp.img"
echo "(files in ${TMPDIR:-/tmp}; data 1 MiB per 64 MiB; BENCH_IMPORT_GIB=$GIB)"
