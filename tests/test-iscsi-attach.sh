#!/usr/bin/env bash
# local-attach --multipath of an iSCSI volume, against a fake Cinder that
# hands out connection_info for two real tgtds (two portals of one LUN):
# the device reads as the LUN; list --json shows each path's state, a
# killed portal as down with its error and then up again once back;
# --enforce-multipath with one portal down is refused and rolled back;
# local-detach ends it all.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
require_built fuse
. "$TESTS_SRCDIR/iscsi-lib.sh"

VOLUME=1d6f5a4e-3f1c-4a36-9f6e-000000000003
make_disk "$T/lun.img" 16M random
tgt_start a
tgt_start b
iscsi_ci a b
start_fake_cinder "$T/cinder.log" "$T/ci.json" "$VOLUME"
ISCSI_UNDO="$CINDER_BRICK local-detach --force $VOLUME"

# paths_are STATE_A STATE_B: what list --json says of the two paths.
paths_are() {
	[ "$("$CINDER_BRICK" list --json |
		jq -r --arg v "$VOLUME" --arg a "${TGT_PORTAL[a]}" --arg b "${TGT_PORTAL[b]}" \
			'.[] | select(.volume_id == $v) | .paths as $p |
			 [($p[] | select(.portal == $a) | .state),
			  ($p[] | select(.portal == $b) | .state)] | join(" ")')" = "$1 $2" ]
}

"$CINDER_BRICK" local-attach --json --multipath --export fuse fakevol > "$T/out" 2> "$T/err" ||
	fail "local-attach --multipath: $(cat "$T/err")"
SERVER_PIDS+=("$(jq -r .pid "$T/out")")
DEV=$(jq -r .device "$T/out")
cmp "$DEV" "$T/lun.img" || fail "$DEV does not read as the LUN"
wait_for 50 paths_are up up ||
	fail "list --json does not show both paths up: $("$CINDER_BRICK" list --json)"
echo "ok - local-attach --multipath: the device reads as the LUN, list shows both paths up"

tgt_kill b
dd if="$DEV" of=/dev/null bs=1M count=4 iflag=direct status=none || fail "reading with a path down"
wait_for 50 paths_are up down || fail "list does not show the killed path down: $("$CINDER_BRICK" list --json)"
"$CINDER_BRICK" list --json | jq -e --arg p "${TGT_PORTAL[b]}" \
	'.[].paths[]? | select(.portal == $p) | .error | length > 0' > /dev/null ||
	fail "no error shown for the killed path"
tgt_restart b
wait_for 100 paths_are up up ||
	fail "list does not show the path back up: $("$CINDER_BRICK" list --json | jq -c .[].paths) $(tail -3 "$T/tgtd-b.log")"
echo "ok - list --json: a killed path is down with its error, then up once back"

"$CINDER_BRICK" local-detach fakevol 2> "$T/err" || fail "local-detach: $(cat "$T/err")"
grep -q "^DELETE /v3/p1/attachments/" "$T/cinder.log" || fail "no attachment deleted"

tgt_kill b
: > "$T/cinder.log"
! "$CINDER_BRICK" local-attach --multipath --enforce-multipath --export fuse fakevol \
	> "$T/out" 2> "$T/err" || fail "--enforce-multipath attached with one path"
grep -q "only 1 of the 2 paths logged in" "$T/err" || fail "no reason: $(cat "$T/err")"
grep -q "^DELETE /v3/p1/attachments/" "$T/cinder.log" || fail "the refused attach was not rolled back"
[ -z "$("$CINDER_BRICK" list --json | jq -r --arg v "$VOLUME" '.[] | select(.volume_id == $v)')" ] ||
	fail "a refused attach left a record"
echo "ok - --enforce-multipath with one path down: refused, rolled back, nothing left"
