#!/usr/bin/env bash
# local-attach and local-detach of the lab's iSCSI volumes (volume type
# iscsi: RBD images a lab-only Cinder driver exports through tgtd, with
# CHAP and two portals) as demo, through the real Cinder, with no kernel
# initiator: Cinder -> iscsi connection_info -> libiscsi -> device.  The
# attachments API with --multipath (both paths up in list --json, which
# also shows the backend options a reattach would use again, the target
# gone after detach), data across detach and attach, the legacy
# volume actions, a rollback when the serving process cannot open the
# volume, and a read-only attachment.
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
require_built iscsi
require_cmd tgtadm
attach_init
api GET /types | jq -e '.volume_types[] | select(.name == "iscsi")' > /dev/null ||
	skip "the lab has no volume type iscsi (scripts/lab up makes it)"
# scripts/lab's tgtd (TGTD_CONTROL_PORT there).
targets() { tgtadm -C 3260 --lld iscsi --op show --mode target | grep -c "^Target .*:$1$"; }

NAME=cb-attach-iscsi-$$
new_volume "$NAME" iscsi
pattern_file "$T/pattern" 1048576 77

attach --multipath --backend-option iscsi.io_timeout=20 "$NAME"
[ "$(jq -r .backend "$T/out")" = iscsi ] || fail "backend is not iscsi: $(cat "$T/out")"
[ "$(jq -r .flow "$T/out")" = v3 ] || fail "not the attachments API"
[ "$(targets "volume-$VOL")" = 1 ] || fail "no tgtd target for the volume: $(tgtadm -C 3260 --lld iscsi --op show --mode target | grep Target)"
! grep -q auth_password "/run/cinder-brick/$VOL.json" || fail "the state holds the CHAP password"
wait_for 50 eval '[ "$("$CINDER_BRICK" list --json | jq -r --arg v "$VOL" \
	".[] | select(.volume_id == \$v) | [.paths[].state] | join(\" \")")" = "up up" ]' ||
	fail "list --json does not show two paths up: $("$CINDER_BRICK" list --json)"
# What a reattach opens the volume with again.
[ "$("$CINDER_BRICK" list --json | jq -r --arg v "$VOL" \
	'.[] | select(.volume_id == $v) | .backend_options["iscsi.io_timeout"]')" = 20 ] ||
	fail "the attachment's record lacks its backend options: $("$CINDER_BRICK" list --json)"
dd if="$T/pattern" of="$DEV" bs=1M oflag=direct status=none || fail "cannot write $DEV"
must local-detach "$NAME"
wait_gone "$PID" || fail "the serving process outlived local-detach"
assert_clean "$VOL"
[ "$(targets "volume-$VOL")" = 0 ] || fail "the target outlived the attachment"
attach "$VOL"
cmp <(head -c 1048576 "$DEV") "$T/pattern" || fail "the pattern did not survive detach/attach"
must local-detach "$VOL"
assert_clean "$VOL"
echo "ok - v3: attach --multipath (two paths up), data across detach and attach, target removed"

attach --os-volume-api-version 3.0 "$NAME"
[ "$(jq -r .flow "$T/out")" = legacy ] || fail "not the legacy flow"
cmp <(head -c 1048576 "$DEV") "$T/pattern" || fail "the pattern is not there (legacy)"
must local-detach --os-volume-api-version 3.0 "$NAME"
assert_clean "$VOL"
echo "ok - legacy volume actions: attach, data, detach"

# The serving process refuses the volume (an I/O timeout it cannot take):
# everything done in Cinder is undone.
cb local-attach --backend-option iscsi.io_timeout=never "$NAME"
[ $RC -eq 1 ] || fail "an attach whose serving failed exited $RC: $(cat "$T/err")"
grep -q "iscsi.io_timeout" "$T/err" || fail "the failure does not say why: $(cat "$T/err")"
assert_clean "$VOL"
[ "$(targets "volume-$VOL")" = 0 ] || fail "the rolled-back attach left a target"
echo "ok - rollback: the serving process's refusal leaves the volume available, no target"

attach --mode ro "$NAME"
dd if=/dev/zero of="$DEV" bs=4k count=1 oflag=direct status=none 2> /dev/null &&
	fail "a write to a read-only attachment succeeded"
cmp <(head -c 1048576 "$DEV") "$T/pattern" || fail "cannot read the read-only attachment"
must local-detach "$NAME"
assert_clean "$VOL"
echo "ok - read-only attachment rejects writes"
