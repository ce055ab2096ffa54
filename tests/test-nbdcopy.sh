#!/usr/bin/env bash
# Data survives a round trip through the export with nbdcopy: in, out, and
# on the backing file; with one connection, with several connections and
# many requests in flight, with the page cache partly evicted, on an export
# whose size is not a multiple of any block size, and with --direct-io.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_cmd nbdcopy
cb_init

MiB=$((1 << 20))

# round_trip SRC NBDCOPY-OPTIONS...: SRC into the export, back out, and
# every copy compared with SRC.
round_trip() {
	local src=$1 want

	shift
	want=$(sha "$src")
	timeout 60 nbdcopy "$@" "$src" "$NBD_URI" || fail "nbdcopy $* into the export failed"
	rm -f "$T/out"
	timeout 60 nbdcopy "$@" "$NBD_URI" "$T/out" || fail "nbdcopy $* out of the export failed"
	[ "$(sha "$T/out")" = "$want" ] || fail "nbdcopy $*: data read back differs"
	[ "$(sha "$T/disk")" = "$want" ] || fail "nbdcopy $*: backing file differs"
	assert_alive "$SERVER_PID" "after nbdcopy $*"
}

make_disk "$T/disk" 16M
make_ci "$T/disk"
start_unix

make_disk "$T/src1" 16M random
round_trip "$T/src1" --connections=1 --requests=1

make_disk "$T/src2" 16M random
round_trip "$T/src2" --connections=4 --requests=64

# Small requests, so that many replies are in flight on each connection.
make_disk "$T/src3" 16M random
round_trip "$T/src3" --connections=4 --requests=32 --request-size=4096

# Zeroes in the source: nbdcopy may send WRITE_ZEROES or TRIM instead of
# data; what comes back must still be zeroes.
cp "$T/src3" "$T/src4"
dd if=/dev/zero of="$T/src4" bs=1M seek=4 count=6 conv=notrunc status=none
round_trip "$T/src4" --connections=2 --requests=16

# Large reads of data in the page cache are sent with sendfile(), the rest
# through a buffer.  With every other MiB evicted from the cache, replies of
# both kinds interleave on each connection.
"$PY" - "$T/disk" <<-'PY' || fail "cannot evict the disk from the page cache"
	import os, sys
	fd = os.open(sys.argv[1], os.O_RDONLY)
	os.fsync(fd)
	size = os.fstat(fd).st_size
	for off in range(0, size, 2 << 20):
	    os.posix_fadvise(fd, off, 1 << 20, os.POSIX_FADV_DONTNEED)
	PY
rm -f "$T/out"
timeout 60 nbdcopy --connections=2 --requests=16 --request-size=$((256 << 10)) \
	"$NBD_URI" "$T/out" || fail "nbdcopy out of a partly cached export failed"
[ "$(sha "$T/out")" = "$(sha "$T/src4")" ] || fail "partly cached export: data read back differs"
assert_alive "$SERVER_PID" "after reading a partly cached export"
stop_server "$SERVER_PID"

# An odd size: the last request is shorter than the others.
ODD=$((5 * MiB + 511))
make_disk "$T/disk" $ODD
start_unix
[ "$(timeout 60 nbdinfo --size "$NBD_URI")" = $ODD ] || fail "odd size not reported"
make_disk "$T/src5" $ODD random
round_trip "$T/src5" --connections=4 --requests=8
stop_server "$SERVER_PID"

# The data is still there once the server has gone.
[ "$(sha "$T/disk")" = "$(sha "$T/src5")" ] || fail "backing file changed at shutdown"

# O_DIRECT: the server's buffers must suit the kernel's alignment rules.
make_disk "$T/disk" 8M
if "$PY" -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDWR | os.O_DIRECT))' \
	"$T/disk" 2> /dev/null; then
	start_unix --direct-io
	make_disk "$T/src6" 8M random
	round_trip "$T/src6" --connections=4 --requests=16
	round_trip "$T/src6" --connections=1 --request-size=4096
	stop_server "$SERVER_PID"
else
	note "this filesystem has no O_DIRECT; skipping --direct-io"
fi
exit 0
