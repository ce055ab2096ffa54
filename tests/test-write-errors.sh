#!/usr/bin/env bash
# A backend that cannot take a write: the export is a sparse file on a
# 4 MiB tmpfs, so writes past what fits fail with ENOSPC.  Each kind of
# write (page-aligned 1 MiB, which the server splices from the socket
# straight into the file; small; unaligned, which go through a buffer) must
# get an ENOSPC reply, the connection must stay usable, and the writes that
# were acknowledged must read back.  The same for a large write through
# the FUSE export.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_pymod nbd
[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
cb_init

mkdir "$T/small"
mount -t tmpfs -o size=4m cb-test-enospc "$T/small" || skip "cannot mount a tmpfs"
trap 'unmount_cleanup "$T/small"' EXIT
truncate -s 16M "$T/small/disk"
make_ci "$T/small/disk"
fuse=()
if built fuse; then
	touch "$T/fuse"
	fuse=(--fuse "$T/fuse")
fi
start_unix "${fuse[@]}"

timeout 120 "$PY" - "$NBD_URI" <<'EOF' || fail "write errors"
import errno
import os
import sys

import nbd

MiB = 1 << 20
h = nbd.NBD()
h.connect_uri(sys.argv[1])
written = {}


def write(off, data, what):
    try:
        h.pwrite(data, off)
    except nbd.Error as e:
        if e.errnum != errno.ENOSPC:
            sys.exit(f"{what} at {off}: {e}, not ENOSPC")
        return False
    written[off] = data
    return True


# 1 MiB aligned writes until the tmpfs is full.
full_at = None
for i in range(16):
    if not write(i * MiB, os.urandom(MiB), "1 MiB write"):
        full_at = i
        break
if full_at is None:
    sys.exit("16 MiB fitted on a 4 MiB tmpfs")
print(f"ok - 1 MiB write {full_at} got ENOSPC")

if write(15 * MiB, os.urandom(4096), "4 KiB write"):
    sys.exit("a 4 KiB write into a hole of a full tmpfs succeeded")
if write(14 * MiB + 1, os.urandom(200000), "unaligned write"):
    sys.exit("an unaligned write into a hole of a full tmpfs succeeded")
print("ok - small and unaligned writes got ENOSPC")

# What was acknowledged is there, through the same connection.
for off, data in written.items():
    if h.pread(len(data), off) != data:
        sys.exit(f"acknowledged write at {off} does not read back")
print(f"ok - {len(written)} acknowledged writes read back")
h.shutdown()
EOF
assert_alive "$SERVER_PID" "after the write errors"

# The FUSE export of the same volume, whose large writes are spliced from
# libfuse's pipe into the file: the same error, and nothing else changes.
if built fuse; then
	cp "$T/small/disk" "$T/before"
	dd if=/dev/urandom of="$T/fuse" bs=1M count=2 seek=12 oflag=direct conv=notrunc \
		status=none 2> "$T/dd.err" && fail "a 2 MiB write through FUSE fitted on a full tmpfs"
	grep -q "No space left on device" "$T/dd.err" || fail "FUSE write: $(cat "$T/dd.err")"
	cmp "$T/fuse" "$T/before" || fail "the failed FUSE write changed the volume"
	echo "ok - FUSE: a large write gets ENOSPC"
else
	note "this build has no FUSE export: its ENOSPC is not tested"
fi
stop_server "$SERVER_PID"
