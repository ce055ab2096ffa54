#!/usr/bin/env bash
# Large writes skip the server's buffers: spliced from the socket (NBD) or
# from libfuse's pipe (FUSE) into the volume's file.  Never received into a
# shared mapping of the volume: once writeback has cleaned a page, every
# write through the mapping takes a fault and the filesystem's page_mkwrite,
# which made sustained large writes 3-5x slower (issue 17).  So: no shared
# writable mapping of the volume; what lands is exactly what was written,
# aligned or not, also while writeback runs, as read from the disk after the
# file system is mounted anew; and where a write cannot get blocks (a hole
# of a sparse volume on a full ext4) it gets ENOSPC, also when part of it
# landed (a short count would be success to a loop device), the server
# lives on, and writes to allocated blocks still succeed.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_pymod nbd
require_cmd mkfs.ext4
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
cp "$vol" "$T/expected"
make_ci "$vol"
fuse=()
if built fuse; then
	touch "$T/fuse"
	fuse=(--fuse "$T/fuse")
fi
start_unix "${fuse[@]}"

# Writes over the data: a whole 1 MiB, and an unaligned 300000 bytes (both
# large enough to skip the slot buffers), each 8 times over while another
# process keeps flushing the file, so that writeback runs under them.  The
# same into $T/expected.
( while :; do sync "$vol"; done ) &
syncer=$!
timeout 120 "$PY" - "$NBD_URI" "$T/expected" <<'EOF' || fail "large NBD writes"
import os
import sys

import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
with open(sys.argv[2], "r+b") as expected:
    for _ in range(8):
        for off, size in ((1 << 20, 1 << 20), (3 * (1 << 20) + 12345, 300000)):
            data = os.urandom(size)
            h.pwrite(data, off)
            expected.seek(off)
            expected.write(data)
h.shutdown()
EOF
if built fuse; then
	for i in 1 2 3 4; do
		dd if=/dev/urandom of="$T/fuse-data" bs=1M count=2 status=none
		dd if="$T/fuse-data" of="$T/fuse" bs=1M seek=5 oflag=direct conv=notrunc status=none ||
			fail "a 2 MiB write through FUSE failed ($i)"
	done
	dd if="$T/fuse-data" of="$T/expected" bs=1M seek=5 conv=notrunc status=none
fi
kill "$syncer"
wait "$syncer" 2> /dev/null
[ -z "$(mapped_writable "$SERVER_PID" "$vol")" ] ||
	fail "the server maps the volume shared and writable: large writes must be spliced"
echo "ok - large writes are spliced, not received into a mapping of the volume"
stop_server "$SERVER_PID"
umount "$T/ext4" || fail "cannot unmount the ext4 image"
mount -o loop "$T/ext4.img" "$T/ext4" || fail "cannot mount the ext4 image again"
cmp "$vol" "$T/expected" || fail "the volume does not hold what was written"
echo "ok - large writes under writeback read back as written from the disk"

# Served again, for the rest.
start_unix "${fuse[@]}"

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
assert_alive "$SERVER_PID" "after writes that found no space"
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
	assert_alive "$SERVER_PID" "after a FUSE write that found no space"
	echo "ok - FUSE: a write into a hole of a full ext4 gets ENOSPC"
fi
stop_server "$SERVER_PID"
