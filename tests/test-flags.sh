#!/usr/bin/env bash
# Command flags and the less common commands through libnbd: FUA writes,
# WRITE_ZEROES with NO_HOLE and FAST_ZERO, TRIM, CACHE, BLOCK_STATUS with
# REQ_ONE, DF reads; error replies (EINVAL, ENOSPC) that leave the
# connection usable; a read-only export that refuses writes (EPERM); and
# the alignment --direct-io demands.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_pymod nbd
cb_init

make_disk "$T/disk" 16M
make_ci "$T/disk"
start_unix

timeout 120 "$PY" - "$NBD_URI" "$T/disk" <<'EOF' || fail "flag tests (read-write export)"
import errno
import os
import sys

import nbd

MiB = 1 << 20
uri, disk = sys.argv[1:3]
fd = os.open(disk, os.O_RDONLY)
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
# The server, not libnbd, must judge every request below.
h.set_strict_mode(0)
h.connect_uri(uri)
size = h.get_size()
assert size == 16 * MiB, size


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def backing(off, n):
    return os.pread(fd, n, off)


def fails_with(errnums, what, fn, *args):
    try:
        fn(*args)
    except nbd.Error as e:
        check(e.errnum in errnums,
              "%s: errno %s, expected %s" % (what, e.errnum, errnums))
        return e.errnum
    sys.exit("FAIL: %s succeeded" % what)


def extents(count, off, flags=0):
    got = []

    def cb(ctx, start, entries, err):
        check(ctx == nbd.CONTEXT_BASE_ALLOCATION, "context " + ctx)
        check(start == off, "extents start at %d, not %d" % (start, off))
        got.extend(entries)
        return 0
    h.block_status(count, off, cb, flags)
    return [(got[i], got[i + 1]) for i in range(0, len(got), 2)]


def fs_punches_holes():
    t = "%s.holes" % disk
    with open(t, "wb") as f:
        f.truncate(4 * MiB)
        f.seek(MiB)
        f.write(b"x" * MiB)
    tfd = os.open(t, os.O_RDONLY)
    try:
        return os.lseek(tfd, 0, os.SEEK_DATA) == MiB
    finally:
        os.close(tfd)
        os.unlink(t)


holes = fs_punches_holes()
HOLE_ZERO = nbd.STATE_HOLE | nbd.STATE_ZERO

for can in ("can_fua", "can_zero", "can_fast_zero", "can_trim", "can_cache",
            "can_flush", "can_df", "can_multi_conn", "can_meta_context"):
    fn = getattr(h, can)
    ok = fn(nbd.CONTEXT_BASE_ALLOCATION) if can == "can_meta_context" else fn()
    check(ok, can)
check(not h.is_read_only(), "is_read_only")

# FUA write: acknowledged means on the backing file.
data = os.urandom(65536)
h.pwrite(data, 0, nbd.CMD_FLAG_FUA)
check(h.pread(65536, 0) == data, "FUA write read back")
check(backing(0, 65536) == data, "FUA write not on the backing file")
# Unaligned FUA write across a 4 KiB boundary.
h.pwrite(b"\x42" * 100, 4050, nbd.CMD_FLAG_FUA)
check(backing(4050, 100) == b"\x42" * 100, "unaligned FUA write")
h.flush()

# WRITE_ZEROES, NO_HOLE: zeroes, and only where asked.
h.pwrite(b"\x77" * (3 * MiB), MiB)
h.zero(MiB, MiB, nbd.CMD_FLAG_NO_HOLE)
check(h.pread(MiB, MiB) == bytes(MiB), "NO_HOLE zero does not read as zeroes")
check(backing(MiB, MiB) == bytes(MiB), "NO_HOLE zero not on the backing file")
check(backing(2 * MiB, 4096) == b"\x77" * 4096, "zeroing overran its range")

# WRITE_ZEROES that may punch a hole, with FUA.
h.zero(MiB, 2 * MiB, nbd.CMD_FLAG_FUA)
check(h.pread(MiB, 2 * MiB) == bytes(MiB), "zero (may trim) does not read as zeroes")
check(backing(3 * MiB, 4096) == b"\x77" * 4096, "zeroing overran its range")
if holes:
    ex = extents(MiB, 2 * MiB)
    check(ex == [(MiB, HOLE_ZERO)], "zeroed range is not a hole: %s" % ex)

# FAST_ZERO: either fast or ENOTSUP, never slow; alone and with NO_HOLE.
for flags in (nbd.CMD_FLAG_FAST_ZERO, nbd.CMD_FLAG_FAST_ZERO | nbd.CMD_FLAG_NO_HOLE):
    h.pwrite(b"\x55" * MiB, 3 * MiB)
    try:
        h.zero(MiB, 3 * MiB, flags)
        check(h.pread(MiB, 3 * MiB) == bytes(MiB), "fast zero does not read as zeroes")
    except nbd.Error as e:
        check(e.errnum == errno.ENOTSUP, "fast zero failed with %s" % e)
        check(h.pread(MiB, 3 * MiB) == b"\x55" * MiB, "failed fast zero changed data")

# TRIM, with and without FUA: the file backend punches holes, which read
# back as zeroes.
h.pwrite(b"\x66" * (2 * MiB), 6 * MiB)
h.trim(MiB, 6 * MiB)
h.trim(MiB, 7 * MiB, nbd.CMD_FLAG_FUA)
check(h.pread(2 * MiB, 6 * MiB) == bytes(2 * MiB), "trimmed range is not zeroes")
check(backing(6 * MiB, 2 * MiB) == bytes(2 * MiB), "trim not on the backing file")
if holes:
    ex = extents(2 * MiB, 6 * MiB)
    check(ex == [(2 * MiB, HOLE_ZERO)], "trimmed range is not a hole: %s" % ex)

# CACHE: a prefetch that succeeds and changes nothing.
before = h.pread(MiB, 0)
h.cache(MiB, 0)
h.cache(size, 0)
check(h.pread(MiB, 0) == before, "cache changed data")

# BLOCK_STATUS: 64 KiB of data at the start of a hole.
h.pwrite(b"\x11" * 65536, 8 * MiB)
ex = extents(2 * MiB, 8 * MiB)
check(sum(n for n, _ in ex) == 2 * MiB, "extents do not cover the request: %s" % ex)
check(ex[0] == (65536, 0), "first extent is %s, not 64K of data" % (ex[0],))
if holes:
    check(ex == [(65536, 0), (2 * MiB - 65536, HOLE_ZERO)], "extents %s" % ex)
ex = extents(2 * MiB, 8 * MiB, nbd.CMD_FLAG_REQ_ONE)
check(ex == [(65536, 0)], "REQ_ONE: %s" % ex)
if holes:
    ex = extents(2 * MiB, 8 * MiB + 65536, nbd.CMD_FLAG_REQ_ONE)
    check(ex == [(2 * MiB, HOLE_ZERO)], "REQ_ONE on a hole: %s" % ex)
# A request smaller than the extent it lands in is answered exactly.
ex = extents(4096, 8 * MiB, nbd.CMD_FLAG_REQ_ONE)
check(ex == [(4096, 0)], "REQ_ONE, small: %s" % ex)
# The whole export in one request.
ex = extents(size, 0)
check(sum(n for n, _ in ex) == size, "whole-export extents: %s" % ex)

# DF on a read: one chunk, same data.
check(h.pread(65536, 8 * MiB, nbd.CMD_FLAG_DF) == b"\x11" * 65536, "DF read")

# Zero-length requests are harmless.
check(h.pread(0, 0) == b"", "zero-length read")
h.pwrite(b"", 0)
h.zero(0, 0)
h.trim(0, 0)

# Errors the server must answer without dropping the connection.
E = errno
fails_with([E.EINVAL], "read at the end", h.pread, 512, size)
fails_with([E.EINVAL], "read across the end", h.pread, 512, size - 256)
fails_with([E.EINVAL], "read at 2^64-512", h.pread, 1024, (1 << 64) - 512)
fails_with([E.EINVAL], "read over the maximum size", h.pread, 33 * MiB, 0)
fails_with([E.ENOSPC], "write across the end", h.pwrite, b"x" * 512, size - 256)
fails_with([E.ENOSPC], "write at 2^64-512", h.pwrite, b"x" * 1024, (1 << 64) - 512)
fails_with([E.EINVAL, E.ENOSPC], "zero across the end", h.zero, 4096, size - 2048)
fails_with([E.EINVAL, E.ENOSPC], "trim across the end", h.trim, 4096, size - 2048)
fails_with([E.EINVAL], "cache across the end", h.cache, 4096, size - 2048)
fails_with([E.EINVAL], "block status past the end", extents, 4096, size)
fails_with([E.EINVAL], "read with FUA", h.pread, 512, 0, nbd.CMD_FLAG_FUA)
fails_with([E.EINVAL], "write with REQ_ONE", h.pwrite, b"x", 0, nbd.CMD_FLAG_REQ_ONE)
fails_with([E.EINVAL], "trim with NO_HOLE", h.trim, 512, 0, nbd.CMD_FLAG_NO_HOLE)
check(backing(size - 4096, 4096) == bytes(4096), "a refused write reached the disk")
check(h.aio_in_flight() == 0, "requests still in flight")
check(h.pread(MiB, 0) == before, "connection unusable after the errors")
h.shutdown()
EOF

# The data written with FUA is there after the server has gone.
stop_server "$SERVER_PID"

# --- read-only export
pattern_file "$T/disk" 4194304 165
before=$(sha "$T/disk")
start_unix --read-only
timeout 120 "$PY" - "$NBD_URI" <<'EOF' || fail "flag tests (read-only export)"
import errno
import sys

import nbd

h = nbd.NBD()
h.set_strict_mode(0)
h.connect_uri(sys.argv[1])


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def refused(what, fn, *args, allowed=(errno.EPERM,)):
    try:
        fn(*args)
    except nbd.Error as e:
        check(e.errnum in allowed, "%s: errno %s" % (what, e.errnum))
        return
    sys.exit("FAIL: %s on a read-only export succeeded" % what)


check(h.is_read_only(), "not read-only")
check(h.pread(4096, 0) == b"\xa5" * 4096, "read")
refused("write", h.pwrite, b"x" * 4096, 0)
# Not advertised on a read-only export: EINVAL is as good as EPERM.
refused("FUA write", h.pwrite, b"x" * 4096, 0, nbd.CMD_FLAG_FUA,
        allowed=(errno.EPERM, errno.EINVAL))
refused("zero", h.zero, 4096, 0, allowed=(errno.EPERM, errno.EINVAL))
refused("trim", h.trim, 4096, 0, allowed=(errno.EPERM, errno.EINVAL))
h.cache(4096, 0)
check(h.pread(4096, 0) == b"\xa5" * 4096, "read after refused writes")
h.shutdown()
EOF
stop_server "$SERVER_PID"
[ "$(sha "$T/disk")" = "$before" ] || fail "the read-only export changed the disk"

# --- --direct-io: requests must be multiples of the advertised minimum
if "$PY" -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDWR | os.O_DIRECT))' \
	"$T/disk" 2> /dev/null; then
	start_unix --direct-io
	timeout 120 "$PY" - "$NBD_URI" "$T/disk" <<'EOF' || fail "flag tests (--direct-io)"
import errno
import os
import sys

import nbd

h = nbd.NBD()
h.set_strict_mode(0)
h.connect_uri(sys.argv[1])
bmin = h.get_block_size(nbd.SIZE_MINIMUM)


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def refused(what, fn, *args):
    try:
        fn(*args)
    except nbd.Error as e:
        check(e.errnum == errno.EINVAL, "%s: errno %s" % (what, e.errnum))
        return
    sys.exit("FAIL: %s succeeded" % what)


check(bmin >= 512 and bmin & (bmin - 1) == 0, "minimum block size %d" % bmin)
data = os.urandom(2 * bmin)
h.pwrite(data, bmin, nbd.CMD_FLAG_FUA)
check(h.pread(2 * bmin, bmin) == data, "aligned O_DIRECT round trip")
with open(sys.argv[2], "rb") as f:
    f.seek(bmin)
    check(f.read(2 * bmin) == data, "aligned write not on the disk")
refused("unaligned write", h.pwrite, b"x" * 100, bmin)
refused("misaligned offset", h.pread, bmin, 1)
refused("misaligned zero", h.zero, bmin, 7)
check(h.pread(2 * bmin, bmin) == data, "refused requests changed data")
h.shutdown()
EOF
	stop_server "$SERVER_PID"
else
	note "this filesystem has no O_DIRECT; skipping --direct-io"
fi
exit 0
