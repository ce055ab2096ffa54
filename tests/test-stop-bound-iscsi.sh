#!/usr/bin/env bash
# SIGTERM ends an iSCSI export within its grace period (--stop-grace 3)
# when its target does not answer: a tgtd started here, frozen (SIGSTOP)
# with writes in flight, while its requests would wait for the I/O
# timeout (iscsi.io_timeout, 60 s).  Over an NBD socket: exit 1 once the
# grace period is over and within a few seconds more, saying why; the
# writes fail; the socket goes.  Then local-attach (a fake Cinder) and
# local-detach with the target frozen: done within the same bound, the
# device, its record and the attachment gone.  The target, let go, serves
# again.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
. "$TESTS_SRCDIR/iscsi-lib.sh"
. "$TESTS_SRCDIR/stop-lib.sh"
trap 'stop_release; iscsi_cleanup' EXIT
require_built fuse
require_pymod nbd
require_cmd bc nbdcopy jq

make_disk "$T/lun.img" 64M random
tgt_start a
iscsi_ci a

# --- over an NBD socket
start_fg --stop-grace "$GRACE"
freeze "${TGT_PID[a]}"
start_inflight_writes "$NBD_URI"
stop_bounded "$SERVER_PID" "$SERVER_ERR"
writer_failed
[ ! -e "$T/nbd$NSERVERS.sock" ] || fail "the export left its socket"
thaw_all
echo "ok - NBD socket, target frozen: exit 1 in $TOOK s, writes failed, socket gone"

# The target, let go, serves the LUN again.
start_unix
nbdcopy "$NBD_URI" "$T/read" && cmp -n $((16 << 20)) -i $((1 << 20)) "$T/read" "$T/lun.img" ||
	fail "the target does not serve its LUN once let go"
stop_server "$SERVER_PID"
echo "ok - the target, let go, serves again"

# --- local-attach, then local-detach with the target frozen
VOLUME=1d6f5a4e-3f1c-4a36-9f6e-000000000017
start_fake_cinder "$T/cinder.log" "$T/ci.json" "$VOLUME"
ISCSI_UNDO="$CINDER_BRICK local-detach --force $VOLUME"
"$CINDER_BRICK" local-attach --json --export fuse --stop-grace "$GRACE" fakevol \
	> "$T/att.out" 2> "$T/att.err" || fail "local-attach: $(cat "$T/att.err")"
PID=$(jq -r .pid "$T/att.out")
DEV=$(jq -r .device "$T/att.out")
SERVER_PIDS+=("$PID")
freeze "${TGT_PID[a]}"
write_in_flight "$DEV"
detach_bounded "$VOLUME" "$PID" "$DEV"
ISCSI_UNDO=
thaw_all
echo "ok - local-detach with the target frozen: done in $TOOK s, dd failed, nothing left"
