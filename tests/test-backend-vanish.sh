#!/usr/bin/env bash
# A backend that vanishes under a serving export.  The volume is a file on a
# FUSE mount (a second cinder-brick export), and that mount's server is
# killed with SIGKILL, so every access to the file fails with ENOTCONN.
# Reads, small and large writes and flushes through the NBD export must
# each get an error reply in bounded time (no hang, no crash), the
# connection must stay usable for the next request, new clients must still
# complete the handshake; reads and writes through the same process's FUSE
# export must fail with EIO; and SIGTERM must still stop the server.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
require_pymod nbd
require_built fuse
[ -c /dev/fuse ] || skip "no /dev/fuse"
[ "$(id -u)" = 0 ] || skip "needs root to mount the inner FUSE export directly"
cb_init

# The dead mount must go before $T can.
vanish_cleanup() {
	local rc=$?

	umount -l "$T/outer" 2> /dev/null
	umount -l "$T/vol" 2> /dev/null
	(exit $rc)
	cb_cleanup
}
trap vanish_cleanup EXIT

make_disk "$T/inner.img" 16M random
make_ci "$T/inner.img" "$T/inner.json"
touch "$T/vol"
"$CINDER_BRICK" export --connection-info "$T/inner.json" --fuse "$T/vol" \
	--pidfile "$T/inner.pid" > "$T/inner.out" 2> "$T/inner.err" ||
	{ cat "$T/inner.err" >&2; fail "the inner FUSE export did not start"; }
INNER_PID=$(cat "$T/inner.pid")
SERVER_PIDS+=("$INNER_PID")

make_ci "$T/vol"
touch "$T/outer"
start_unix --fuse "$T/outer"

timeout 60 "$PY" - "$NBD_URI" <<'EOF' || fail "serving through the FUSE-backed file"
import os
import sys

import nbd

MiB = 1 << 20
h = nbd.NBD()
h.connect_uri(sys.argv[1])
data = os.urandom(MiB)
h.pwrite(data, 0)
h.flush()
if h.pread(MiB, 0) != data:
    sys.exit("1 MiB written through the export does not read back")
print("ok - served through the FUSE-backed file")
h.shutdown()
EOF

kill -KILL "$INNER_PID"
wait_gone "$INNER_PID" 100 || fail "the inner export did not die"
err=$(cat "$T/vol" 2>&1 > /dev/null) && fail "the file is still readable after its server died"
note "inner export killed: $err"

timeout 60 "$PY" - "$NBD_URI" <<'EOF' || fail "requests to a vanished backend"
import errno
import os
import sys

import nbd

MiB = 1 << 20
h = nbd.NBD()
h.connect_uri(sys.argv[1])


def must_fail(what, fn):
    try:
        fn()
    except nbd.Error as e:
        if e.errnum != errno.EIO:
            sys.exit(f"{what}: {e}, not EIO")
        print(f"ok - {what} failed with EIO")
        return
    sys.exit(f"{what} succeeded on a vanished backend")


must_fail("4 KiB read", lambda: h.pread(4096, 0))
must_fail("1 MiB read", lambda: h.pread(MiB, MiB))
must_fail("4 KiB write", lambda: h.pwrite(os.urandom(4096), 0))
must_fail("1 MiB aligned write", lambda: h.pwrite(os.urandom(MiB), 2 * MiB))
must_fail("unaligned write", lambda: h.pwrite(os.urandom(70000), 3 * MiB + 1))
must_fail("flush", lambda: h.flush())
# Still in step after errors: the same connection answers the next request.
must_fail("read after the errors", lambda: h.pread(512, 0))
h.shutdown()
EOF

# dd's message carries strerror(EIO).
for op in read write; do
	if [ $op = read ]; then
		args=(if="$T/outer" of=/dev/null iflag=direct)
	else
		args=(if=/dev/zero of="$T/outer" oflag=direct conv=notrunc)
	fi
	out=$(timeout 30 dd "${args[@]}" bs=64k count=1 2>&1) &&
		fail "a FUSE $op of a vanished backend succeeded"
	grep -q "Input/output error" <<< "$out" ||
		fail "a FUSE $op of a vanished backend: $out"
	echo "ok - FUSE $op failed with EIO"
done

assert_alive "$SERVER_PID" "after the backend vanished"
timeout 30 nbdinfo --size "$NBD_URI" > /dev/null ||
	fail "a new client cannot complete the handshake"
echo "ok - the server still answers new clients"
stop_server "$SERVER_PID"
echo "ok - SIGTERM stops a server whose backend vanished"
