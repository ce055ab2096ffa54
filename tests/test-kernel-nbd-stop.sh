#!/usr/bin/env bash
# /dev/nbdN of an export whose storage does not answer, inside a VM with
# Debian's kernel: the volume's file lives on the FUSE export of another
# cinder-brick, frozen (SIGSTOP) with a write in flight through the
# device.  On SIGTERM the export's flush of the device would wait for
# ever; instead it exits 1 once its grace period (--stop-grace 3) is over
# and within a few seconds more, saying why; the writer fails; the device
# is disconnected (size 0).  Over netlink and over the ioctl interface.
. "${TESTS_SRCDIR:?must name the tests directory}/kernel-nbd-lib.sh" || exit 99
. "$TESTS_SRCDIR/stop-lib.sh"
trap 'stop_release; kn_cleanup' EXIT
require_built fuse
require_cmd bc

make_disk "$T/vol" 64M
make_ci "$T/vol" "$T/ci-inner.json"
mkdir "$T/inner"
"$CINDER_BRICK" export --connection-info "$T/ci-inner.json" --fuse "$T/inner" \
	--pidfile "$T/inner.pid" > /dev/null 2> "$T/inner.err" ||
	fail "the inner export did not start: $(cat "$T/inner.err")"
INNER=$(cat "$T/inner.pid")
SERVER_PIDS+=("$INNER")
make_ci "$T/inner/disk"

disconnected() {
	[ "$(kn_sys "$1" size)" = 0 ]
}

for how in netlink ioctl; do
	start_fg --kernel-nbd --nbd-interface "$how" --stop-grace "$GRACE"
	DEV=$(sed -n 's|^nbd: \(/dev/nbd[0-9]*\)$|\1|p' "$SERVER_OUT")
	[ -b "$DEV" ] || fail "no /dev/nbdN printed: $(cat "$SERVER_OUT")"
	freeze "$INNER"
	write_in_flight "$DEV"
	stop_bounded "$SERVER_PID" "$SERVER_ERR"
	dd_failed
	wait_for 50 disconnected "$DEV" ||
		fail "$DEV still has size $(kn_sys "$DEV" size) after the exit ($how)"
	thaw_all
	echo "ok - $how: storage frozen, exit 1 in $TOOK s, the write failed, $DEV disconnected"
done
stop_server "$INNER"
echo "ok - the storage, let go, stops cleanly"
