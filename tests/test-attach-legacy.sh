#!/usr/bin/env bash
# local-attach and local-detach with the legacy volume actions
# (--os-volume-api-version 3.0: os-reserve, os-initialize_connection,
# os-attach; os-begin_detaching, os-terminate_connection, os-detach), as
# demo: data written survives a detach and an attach through the
# attachments API, and the other way round.
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
attach_init

NAME=cb-attach-legacy-$$
new_volume "$NAME"
pattern_file "$T/pattern" 1048576 90

s=$EPOCHREALTIME
attach --os-volume-api-version 3.0 --mountpoint /mnt/cb-legacy "$NAME"
note "legacy attach: $(bc <<< "$EPOCHREALTIME - $s") s"
[ "$(jq -r .flow "$T/out")" = legacy ] || fail "not the legacy flow: $(cat "$T/out")"
[ "$(jq -r .microversion "$T/out")" = 3.0 ] || fail "microversion is not 3.0"
[ -n "$ATT" ] && [ "$ATT" != null ] || fail "no attachment ID learnt after os-attach"
v=$(api GET "/volumes/$VOL")
[ "$(jq -r .volume.status <<< "$v")" = in-use ] || fail "volume is not in-use"
[ "$(jq -r .volume.attachments[0].device <<< "$v")" = /mnt/cb-legacy ] ||
	fail "os-attach did not record the mountpoint: $(jq -c .volume.attachments <<< "$v")"
dd if="$T/pattern" of="$DEV" bs=1M oflag=direct status=none || fail "cannot write $DEV"
s=$EPOCHREALTIME
must local-detach --os-volume-api-version 3.0 "$NAME"
note "legacy detach: $(bc <<< "$EPOCHREALTIME - $s") s"
assert_clean "$VOL"
echo "ok - legacy attach and detach"

# Attached through the attachments API, detached from the saved state
# whatever the microversion asked for.
attach "$VOL"
cmp <(head -c 1048576 "$DEV") "$T/pattern" || fail "pattern lost between flows"
must local-detach --os-volume-api-version 3.0 "$VOL"
assert_clean "$VOL"
attach --os-volume-api-version 3.0 "$VOL"
cmp <(head -c 1048576 "$DEV") "$T/pattern" || fail "pattern lost on the legacy attach"
must local-detach "$VOL"
assert_clean "$VOL"
echo "ok - a legacy attachment detached at the negotiated microversion and vice versa"
