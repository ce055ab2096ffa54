#!/usr/bin/env bash
# The rbd backend when the lab's OSD does not answer (frozen with SIGSTOP
# for a few seconds, always let go again): a read fails once its
# rbd.io_timeout (3 s) is over, and the export goes on serving once the
# OSD is back; rbd.io_timeout takes only whole seconds.  SIGTERM with
# writes in flight (FUA, which librbd's cache does not answer) ends the
# export once its grace period (--stop-grace 3) is over and within a few
# seconds more, saying why; the writes fail; the socket goes; the lab's
# Ceph answers again.  Holds the lab lock exclusively: no test of the lab
# runs while its OSD is frozen.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
. "$TESTS_SRCDIR/lab-lock.sh"
lab_lock exclusive
require_pymod nbd
require_cmd bc
cb_init
. "$TESTS_SRCDIR/rbd-lib.sh"
. "$TESTS_SRCDIR/stop-lib.sh"
trap 'stop_release; rbd_release; cb_cleanup' EXIT

read -r OSD _ 2> /dev/null < "$LAB/run/ceph-osd.pid" || skip "no pid file of the lab's OSD"
[ "$(cat "/proc/$OSD/comm" 2> /dev/null)" = ceph-osd ] || skip "the lab's OSD is not process $OSD"

new_image stop 64M
rbd_ci "$T/ci.json" "$IMG" "{\"keyring\": $KEYRING_TEXT}"

export_fails "$T/ci.json" "rbd.io_timeout=0" "rbd.io_timeout is a number of seconds from 1 to" \
	--backend-option rbd.io_timeout=0
export_fails "$T/ci.json" "rbd.io_timeout=2m" "not '2m'" --backend-option rbd.io_timeout=2m
echo "ok - rbd.io_timeout takes whole seconds only"

# --- a read the OSD does not answer fails once rbd.io_timeout is over
IO_TIMEOUT=3
start_fg --backend-option rbd.io_timeout=$IO_TIMEOUT
freeze "$OSD"
start=$EPOCHREALTIME
nbd_py "$NBD_URI" '
try:
    h.pread(4096, 48 << 20)
except nbd.Error as e:
    sys.exit(0 if e.errnum == errno.EIO else 2)
sys.exit(1)' || fail "a read with the OSD frozen did not fail with EIO (status $?)"
took=$(bc <<< "$EPOCHREALTIME - $start")
[ "$(bc <<< "$took >= $IO_TIMEOUT && $took < $IO_TIMEOUT + $SLACK")" = 1 ] ||
	fail "the read failed after $took s, not once rbd.io_timeout ($IO_TIMEOUT s) was over"
thaw_all
nbd_py "$NBD_URI" 'h.pread(4096, 48 << 20)' || fail "no read once the OSD was let go"
kill -TERM "$SERVER_PID"
wait_gone "$SERVER_PID" || fail "the export did not stop"
wait "$SERVER_PID" || fail "the export exited $? once the OSD was back: $(cat "$SERVER_ERR")"
echo "ok - rbd.io_timeout=$IO_TIMEOUT: a read failed with EIO after $took s; served again after"

# --- SIGTERM with writes in flight and the OSD frozen
start_fg --stop-grace "$GRACE"
freeze "$OSD"
start_inflight_writes "$NBD_URI"
stop_bounded "$SERVER_PID" "$SERVER_ERR"
writer_failed
[ ! -e "$T/nbd$NSERVERS.sock" ] || fail "the export left its socket"
thaw_all
timeout 60 ceph -c "$CONF" -s > /dev/null 2>&1 || fail "the lab's Ceph does not answer once let go"
lab_rbd info "$IMG" > /dev/null || fail "the image is not there once the OSD was let go"
echo "ok - SIGTERM, OSD frozen: exit 1 in $TOOK s, writes failed, socket gone; Ceph answers again"
