#!/usr/bin/env bash
# Write-zeroes on a file whose filesystem cannot zero a range (tmpfs has no
# FALLOC_FL_ZERO_RANGE): the file backend writes the zeroes itself
# (backends/zero_fill.c), buffered and with --direct-io, through NBD and
# through the FUSE file's fallocate.  Zeroes land exactly where asked, in
# more than one chunk, and FAST_ZERO refuses rather than be slow.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_pymod nbd
cb_init

[ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ] || skip "/dev/shm is not a tmpfs"
SHM=$(mktemp -d /dev/shm/cb-zero.XXXXXX) || fail "mktemp in /dev/shm"
# cb_cleanup takes the test's status from $?, so hand it on.
trap 'rc=$?; rm -rf "$SHM"; (exit $rc); cb_cleanup' EXIT
"$PY" - "$SHM/probe" <<'EOF' || skip "tmpfs here zeroes ranges itself: nothing to emulate"
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
os.ftruncate(fd, 65536)
FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE = 0x01, 0x10
r = libc.fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, ctypes.c_long(0),
                   ctypes.c_long(4096))
sys.exit(0 if r == -1 and ctypes.get_errno() == errno.EOPNOTSUPP else 1)
EOF

make_ci "$SHM/vol"
for mode in buffered --direct-io; do
	make_disk "$SHM/vol" 8M random
	flags=()
	[ "$mode" = buffered ] || flags=("$mode")
	start_unix "${flags[@]}"
	timeout 120 "$PY" - "$NBD_URI" "$SHM/vol" <<'EOF' || fail "emulated zeroes ($mode)"
import errno
import os
import sys

import nbd

uri, vol = sys.argv[1:3]
K = 1024
# 4 KiB aligned (for --direct-io), several 64 KiB chunks and a partial one.
off, n = 68 * K, 200 * K
before = open(vol, "rb").read()
h = nbd.NBD()
h.connect_uri(uri)
h.zero(n, off, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FUA)
after = open(vol, "rb").read()
if after[off:off + n] != bytes(n):
    sys.exit("FAIL: the range is not zeroes on the backing file")
if after[:off] != before[:off] or after[off + n:] != before[off + n:]:
    sys.exit("FAIL: zeroing changed bytes outside its range")
if h.pread(n, off) != bytes(n):
    sys.exit("FAIL: the range does not read back as zeroes")
try:
    h.zero(64 * K, 512 * K, nbd.CMD_FLAG_FAST_ZERO | nbd.CMD_FLAG_NO_HOLE)
    sys.exit("FAIL: FAST_ZERO succeeded where zeroing is written out")
except nbd.Error as e:
    if e.errnum != errno.ENOTSUP:
        sys.exit("FAIL: FAST_ZERO failed with %s, not ENOTSUP" % e)
if open(vol, "rb").read() != after:
    sys.exit("FAIL: a refused FAST_ZERO changed data")
h.shutdown()
EOF
	stop_server "$SERVER_PID"
done

# Through FUSE: fallocate(ZERO_RANGE) on the volume file.
if built fuse && [ -c /dev/fuse ]; then
	make_disk "$SHM/vol" 8M random
	touch "$T/file"
	start_unix --fuse "$T/file"
	cp "$SHM/vol" "$T/before"
	fallocate --zero-range --keep-size -o 8192 -l 300K "$T/file" || fail "fallocate -z on FUSE"
	cmp -s -n $((300 << 10)) -i 8192:0 "$SHM/vol" /dev/zero ||
		fail "fallocate -z through FUSE did not write zeroes"
	cmp -s -n 8192 "$SHM/vol" "$T/before" || fail "FUSE zeroing changed bytes before its range"
	cmp -s -i $((8192 + (300 << 10))) "$SHM/vol" "$T/before" ||
		fail "FUSE zeroing changed bytes after its range"
	stop_server "$SERVER_PID"
fi
exit 0
