#!/usr/bin/env bash
# SIGTERM ends an export within its grace period (--stop-grace 3) when its
# storage does not answer: the volume's file lives on the FUSE export of
# another cinder-brick, frozen (SIGSTOP) with writes in flight.  Served
# over an NBD socket, and as FUSE + a loop device: the export exits 1 once
# the grace period is over and within a few seconds more, saying why; its
# writers get errors; the socket, the loop device and the FUSE mount are
# gone.  The frozen export, let go, serves again and stops cleanly.  A
# mounted loop device still refuses the stop, past the grace period.  And
# local-attach --stop-grace records the grace period, and local-detach
# completes, the device gone, while the storage is frozen (a fake Cinder).
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
. "$TESTS_SRCDIR/stop-lib.sh"
trap stop_cleanup EXIT
[ "$(id -u)" = 0 ] || skip "the FUSE abort and loop devices need root"
require_built fuse
[ -c /dev/fuse ] || skip "no /dev/fuse"
[ -c /dev/loop-control ] || skip "no loop driver"
require_pymod nbd
require_cmd bc mkfs.ext4 jq

# The storage: $T/vol served as $T/inner/disk by an export of its own,
# INNER.
start_inner() {
	"$CINDER_BRICK" export --connection-info "$T/ci-inner.json" --fuse "$T/inner" \
		--pidfile "$T/inner.pid" > /dev/null 2> "$T/inner.err" ||
		fail "the inner export did not start: $(cat "$T/inner.err")"
	INNER=$(cat "$T/inner.pid")
	SERVER_PIDS+=("$INNER")
}
make_disk "$T/vol" 64M
make_ci "$T/vol" "$T/ci-inner.json"
mkdir "$T/inner" "$T/outer" "$T/mnt"
start_inner
make_ci "$T/inner/disk"

# --- over an NBD socket
start_fg --stop-grace "$GRACE"
freeze "$INNER"
start_inflight_writes "$NBD_URI"
stop_bounded "$SERVER_PID" "$SERVER_ERR"
writer_failed
[ ! -e "$T/nbd$NSERVERS.sock" ] || fail "the export left its socket"
thaw_all
echo "ok - NBD socket, storage frozen: exit 1 in $TOOK s, writes failed, socket gone"

# --- FUSE + loop device (and an NBD socket), a writer holding the device
# with a write in flight
start_fg --fuse "$T/outer" --loop --stop-grace "$GRACE"
LOOP=$(sed -n 's/^loop: //p' "$SERVER_OUT")
loop_on "$LOOP" "$T/outer/disk" || fail "$LOOP is not on $T/outer/disk"
freeze "$INNER"
write_in_flight "$LOOP"
stop_bounded "$SERVER_PID" "$SERVER_ERR"
dd_failed
wait_for 50 loop_off "$LOOP" "$T/outer/disk" ||
	fail "$LOOP is still attached to $T/outer/disk"
! mountpoint -q "$T/outer" || fail "$T/outer is still mounted"
[ ! -e "$T/nbd$NSERVERS.sock" ] || fail "the export left its socket"
thaw_all
echo "ok - FUSE + loop, storage frozen: exit 1 in $TOOK s, dd failed, loop device, mount and socket gone"

# The frozen export, let go, was not harmed.
cmp -n $((1 << 20)) "$T/inner/disk" "$T/vol" || fail "the inner export reads other data"
stop_server "$INNER"
echo "ok - the storage, let go, serves again and stops cleanly"

# --- a mounted device still refuses the stop, past the grace period
make_ci "$T/vol"
start_fg --fuse "$T/outer" --loop --stop-grace "$GRACE"
LOOP=$(sed -n 's/^loop: //p' "$SERVER_OUT")
mkfs.ext4 -q "$LOOP" && mount "$LOOP" "$T/mnt" || fail "mkfs.ext4 or mount on $LOOP"
kill -TERM "$SERVER_PID"
wait_for 100 grep -q "still serving $LOOP" "$SERVER_ERR" ||
	fail "no refusal said: $(cat "$SERVER_ERR")"
sleep $((GRACE + 1))	# what is asserted is that nothing happens meanwhile
assert_alive "$SERVER_PID" "a mounted device's refused stop was cut short"
umount "$T/mnt" || fail "umount $T/mnt"
kill -TERM "$SERVER_PID"
wait_gone "$SERVER_PID" || fail "export $SERVER_PID did not stop once unmounted"
wait "$SERVER_PID" || fail "export $SERVER_PID exited $? once unmounted: $(cat "$SERVER_ERR")"
loop_off "$LOOP" "$T/outer/disk" || fail "$LOOP is still attached"
echo "ok - a mounted loop device refuses the stop past the grace period, then stops with 0"

# --- local-attach --stop-grace, then local-detach with the storage frozen
VOLUME=1d6f5a4e-3f1c-4a36-9f6e-000000000016
start_inner
make_ci "$T/inner/disk" "$T/ci-cinder.json"
start_fake_cinder "$T/cinder.log" "$T/ci-cinder.json" "$VOLUME"
STOP_UNDO="$CINDER_BRICK local-detach --force $VOLUME"
"$CINDER_BRICK" local-attach --json --export fuse --stop-grace "$GRACE" \
	--allow-local-path "$T/inner" fakevol > "$T/att.out" 2> "$T/att.err" ||
	fail "local-attach: $(cat "$T/att.err")"
PID=$(jq -r .pid "$T/att.out")
DEV=$(jq -r .device "$T/att.out")
SERVER_PIDS+=("$PID")
[ "$(jq .stop_grace "$T/att.out")" = "$GRACE" ] ||
	fail "local-attach --json does not show the grace period: $(cat "$T/att.out")"
[ "$(jq .stop_grace "/run/cinder-brick/$VOLUME.json")" = "$GRACE" ] ||
	fail "the attachment's record does not keep the grace period"
loop_on "$DEV" "/run/cinder-brick/$VOLUME/disk" || fail "$DEV is not on the attachment's FUSE file"
freeze "$INNER"
write_in_flight "$DEV"
detach_bounded "$VOLUME" "$PID" "$DEV"
STOP_UNDO=
thaw_all
echo "ok - local-detach with the storage frozen: done in $TOOK s, dd failed, nothing left"
