#!/usr/bin/env bash
# Large writes to a range the page cache holds go into the file backend's
# shared mapping of the volume, the kernel copying them there from the
# socket (NBD) or from libfuse's pipe (FUSE).  What lands must be exactly
# what was written, aligned or not; and where a page of the mapping cannot
# be written (a hole of a sparse volume on a full ext4, which the page cache
# holds as zeroes once read), the copy fails inside the system call, not
# with a SIGBUS: the write gets ENOSPC (also when part of it landed: a short
# count would be success to a loop device), the server lives on, and writes
# to allocated blocks still succeed on the full file system.  The mapping
# grows with the volume, and a read-only export has none.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_pymod nbd
require_cmd mkfs.ext4 fincore
[ "$(id -u)" = 0 ] || skip "mounting an ext4 image needs root"
cb_init

MiB=$((1 << 20))

# mapped_writable PID FILE: the lengths of PID's shared writable mappings
# of FILE, one a line.
mapped_writable() {
	local range perms rest
	while read -r range perms rest; do
		[[ $perms == ?w?s && $rest == *" $2" ]] || continue
		echo $((16#${range#*-} - 16#${range%-*}))
	done < "/proc/$1/maps"
}

maps_grown_to() {	# PID FILE BYTES
	mapped_writable "$1" "$2" | grep -qx "$3"
}

mkdir "$T/ext4"
truncate -s 64M "$T/ext4.img"
mkfs.ext4 -q -F "$T/ext4.img" || fail "mkfs.ext4"
mount -o loop "$T/ext4.img" "$T/ext4" || skip "cannot mount an ext4 image (no loop device?)"
trap 'unmount_cleanup "$T/ext4"' EXIT

# 8 MiB of data, then an 8 MiB hole; all of it read into the page cache.
vol=$T/ext4/disk
head -c $((8 * MiB)) /dev/urandom > "$vol" || fail "cannot write $vol"
truncate -s 16M "$vol"
cat "$vol" > /dev/null
[ "$(fincore -b -n -o RES "$vol")" -eq $((16 * MiB)) ] ||
	skip "the page cache did not keep the volume, so no write would take the mapping"
cp "$vol" "$T/expected"
make_ci "$vol"
fuse=()
if built fuse; then
	touch "$T/fuse"
	fuse=(--fuse "$T/fuse")
fi
start_unix "${fuse[@]}"
rw_pid=$SERVER_PID rw_uri=$NBD_URI

# Writes over the data: a whole 1 MiB, and an unaligned 300000 bytes (both
# large enough to skip the slot buffers).  The same into $T/expected.
timeout 120 "$PY" - "$NBD_URI" "$T/expected" <<'EOF' || fail "mapped NBD writes"
import os
import sys

import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
with open(sys.argv[2], "r+b") as expected:
    for off, size in ((1 << 20, 1 << 20), (3 * (1 << 20) + 12345, 300000)):
        data = os.urandom(size)
        h.pwrite(data, off)
        expected.seek(off)
        expected.write(data)
h.shutdown()
EOF
if built fuse; then
	dd if=/dev/urandom of="$T/fuse-data" bs=1M count=2 status=none
	dd if="$T/fuse-data" of="$T/fuse" bs=1M seek=5 oflag=direct conv=notrunc status=none ||
		fail "a 2 MiB write through FUSE failed"
	dd if="$T/fuse-data" of="$T/expected" bs=1M seek=5 conv=notrunc status=none
fi
cmp "$vol" "$T/expected" || fail "the volume does not hold what was written"
echo "ok - large writes into cached pages land as written"
[ "$(mapped_writable "$SERVER_PID" "$vol")" = $((16 * MiB)) ] ||
	fail "no shared writable mapping of the volume: $(mapped_writable "$SERVER_PID" "$vol")"

# Grown by 8 MiB while served: the mapping follows, and a write past the
# old end lands as written.
truncate -s 24M "$vol" "$T/expected"
cat "$vol" > /dev/null
kill -USR1 "$SERVER_PID"
wait_for 100 maps_grown_to "$SERVER_PID" "$vol" $((24 * MiB)) ||
	fail "the mapping did not grow with the volume: $(mapped_writable "$SERVER_PID" "$vol")"
timeout 120 "$PY" - "$NBD_URI" "$T/expected" <<'EOF' || fail "NBD write past the old end"
import os
import sys

import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
data = os.urandom(1 << 20)
h.pwrite(data, 17 << 20)
with open(sys.argv[2], "r+b") as expected:
    expected.seek(17 << 20)
    expected.write(data)
h.shutdown()
EOF
cmp "$vol" "$T/expected" || fail "a write past the old end does not read back"
echo "ok - the mapping grows with the volume"

start_unix --read-only
ro_pid=$SERVER_PID
[ -z "$(mapped_writable "$ro_pid" "$vol")" ] || fail "a read-only export maps the volume writable"
stop_server "$ro_pid"
SERVER_PID=$rw_pid NBD_URI=$rw_uri
echo "ok - a read-only export has no writable mapping"

# Fill the file system: the hole can no longer get blocks.
dd if=/dev/zero of="$T/ext4/filler" bs=1M status=none 2> /dev/null
sync
cat "$vol" > /dev/null

timeout 120 "$PY" - "$NBD_URI" <<'EOF' || fail "NBD writes to a full file system"
import errno
import os
import sys

import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
# Into the hole, and across the end of the data into it.
for off, size in ((12 << 20, 1 << 20), (10 * (1 << 20) + 4321, 300000),
                  ((8 << 20) - (256 << 10), 1 << 20)):
    try:
        h.pwrite(os.urandom(size), off)
        sys.exit(f"a write of {size} bytes into a hole of a full ext4 succeeded")
    except nbd.Error as e:
        if e.errnum != errno.ENOSPC:
            sys.exit(f"write of {size} bytes at {off}: {e}, not ENOSPC")
data = os.urandom(1 << 20)
h.pwrite(data, 2 << 20)
if h.pread(len(data), 2 << 20) != data:
    sys.exit("an overwrite of allocated blocks on the full file system did not read back")
h.shutdown()
EOF
assert_alive "$SERVER_PID" "after writes that faulted in the mapping"
echo "ok - NBD: writes into a hole of a full ext4 get ENOSPC, overwrites succeed"

if built fuse; then
	dd if=/dev/urandom of="$T/fuse" bs=1M count=2 seek=12 oflag=direct conv=notrunc \
		status=none 2> "$T/dd.err" && fail "a 2 MiB write through FUSE fitted on a full ext4"
	grep -q "No space left on device" "$T/dd.err" || fail "FUSE write: $(cat "$T/dd.err")"
	# One request across the end of the data: the part before the hole
	# lands, and the reply is still an error, never a short count.
	timeout 60 "$PY" - "$T/fuse" <<'EOF' || fail "FUSE write across the end of the data"
import errno
import mmap
import os
import sys

fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 256 << 10)
buf.write(os.urandom(256 << 10))
try:
    n = os.pwrite(fd, buf, (8 << 20) - (128 << 10))
    sys.exit(f"a write across a hole of a full ext4 returned {n}, not ENOSPC")
except OSError as e:
    if e.errno != errno.ENOSPC:
        sys.exit(f"a write across a hole of a full ext4: {e}, not ENOSPC")
EOF
	assert_alive "$SERVER_PID" "after a FUSE write that faulted in the mapping"
	echo "ok - FUSE: a write into a hole of a full ext4 gets ENOSPC"
fi
stop_server "$SERVER_PID"
