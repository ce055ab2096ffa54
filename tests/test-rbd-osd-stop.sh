#!/usr/bin/env bash
# The rbd backend when Ceph stops answering: the lab's only OSD is frozen
# (SIGSTOP: memstore would lose its data if it were killed) under a client.
# A write and flush must then fail once librbd's OSD timeout (30 s) has
# passed, not hang; the server must go on running and answering; and once the OSD is
# back, new writes work and the writes acknowledged before the freeze read
# back.  It freezes what every other lab test uses, so it runs alone.
LAB_LOCK_MODE=exclusive
. "${TESTS_SRCDIR:?must name the tests directory}/rbd-lib.sh" || exit 99

OSD_PID=$(awk '{ print $1 }' "$LAB/run/ceph-osd.pid" 2> /dev/null)
is_alive "$OSD_PID" || skip "no running ceph-osd in $LAB/run/ceph-osd.pid"

# Whatever happens, the OSD runs again.
osd_cleanup() {
	local rc=$?

	kill -CONT "$OSD_PID" 2> /dev/null
	(exit $rc)
	rbd_cleanup
}
trap osd_cleanup EXIT

new_image frozen 64M
rbd_ci "$T/ci.json" "$IMG" "{\"keyring\": $KEYRING_TEXT}"
CONN_INFO=$T/ci.json start_unix

nbd_py "$NBD_URI" "
import os, signal, time
MiB = 1 << 20
before = os.urandom(MiB)
h.pwrite(before, 0)
h.flush()
os.kill($OSD_PID, signal.SIGSTOP)
t0 = time.monotonic()
# librbd's cache may take the write; the flush must reach the OSD.
try:
    h.pwrite(os.urandom(MiB), 8 * MiB)
    h.flush()
    sys.exit('a write and flush with the OSD frozen succeeded')
except nbd.Error as e:
    took = time.monotonic() - t0
    print(f'ok - the write or flush failed after {took:.0f} s: {e}')
    if took > 90:
        sys.exit(f'it took {took:.0f} s to fail')
os.kill($OSD_PID, signal.SIGCONT)
after = os.urandom(MiB)
h.pwrite(after, 16 * MiB)
h.flush()
if h.pread(MiB, 0) != before:
    sys.exit('a write acknowledged before the freeze does not read back')
if h.pread(MiB, 16 * MiB) != after:
    sys.exit('a write after the OSD came back does not read back')
print('ok - the OSD back: old data there, new writes work')
" || fail "I/O with a frozen OSD"
assert_alive "$SERVER_PID" "after the OSD froze"
stop_server "$SERVER_PID"
