#!/usr/bin/env bash
# A multiattach volume that another host has attached (in-use): local-attach
# adds an attachment of its own and serves the volume, local-detach ends
# that attachment only, and the other host's stays, with the volume in-use.
# The volume type (multiattach="<is> True") is made by admin, once: types
# are global to the cloud.
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
attach_init

TYPE=cb-multiattach
ADMIN_RC=$("$LAB_CMD" env 2> /dev/null) || skip "scripts/lab env failed"
(
	unset "${!OS_@}"
	eval "$ADMIN_RC"
	lab_login
	id=$(api GET /types | jq -r ".volume_types[] | select(.name == \"$TYPE\") | .id")
	[ -n "$id" ] && exit 0
	api POST /types "{\"volume_type\": {\"name\": \"$TYPE\", \"extra_specs\":
		{\"multiattach\": \"<is> True\"}}}" | jq -e .volume_type.id > /dev/null
) || fail "admin cannot make the volume type $TYPE"

NAME=cb-multiattach-$$
VOL=$(api POST /volumes "{\"volume\": {\"size\": 1, \"name\": \"$NAME\",
	\"volume_type\": \"$TYPE\"}}" | jq -r .volume.id)
[ -n "$VOL" ] && [ "$VOL" != null ] || fail "cannot create a $TYPE volume"
VOLUMES+=("$VOL")
wait_status "$VOL" available
[ "$(vol_field "$VOL" multiattach)" = true ] || fail "the $TYPE volume is not multiattach"

# The other host: an attachment with its connector, completed.
OTHER=$(api POST /attachments "{\"attachment\": {\"volume_uuid\": \"$VOL\", \"connector\":
	{\"host\": \"elsewhere\", \"ip\": \"127.0.0.2\", \"initiator\": \"iqn.x:y\",
	 \"platform\": \"x86_64\", \"os_type\": \"linux\", \"multipath\": false}}}" |
	jq -r .attachment.id)
[ -n "$OTHER" ] && [ "$OTHER" != null ] || fail "cannot attach $VOL elsewhere"
api POST "/attachments/$OTHER/action" '{"os-complete": null}' > /dev/null
wait_status "$VOL" in-use

pattern_file "$T/pattern" 1048576 77
attach "$NAME"
[ "$(api GET "/attachments?volume_id=$VOL" | jq '.attachments | length')" = 2 ] ||
	fail "Cinder does not list both attachments"
dd if="$T/pattern" of="$DEV" bs=1M oflag=direct status=none || fail "cannot write $DEV"
cmp -n 1048576 "$T/pattern" "$DEV" || fail "the pattern does not read back"
echo "ok - attached next to another host's attachment"

must local-detach "$NAME"
wait_gone "$PID" || fail "the serving process outlived local-detach"
[ "$(api GET "/attachments?volume_id=$VOL" | jq -r '[.attachments[].id] | join(" ")')" = "$OTHER" ] ||
	fail "the other host's attachment is not the only one left"
[ "$(vol_field "$VOL" status)" = in-use ] || fail "the volume is $(vol_field "$VOL" status), not in-use"
[ ! -e "/run/cinder-brick/$VOL.json" ] || fail "local state left behind"
echo "ok - local-detach ended its own attachment only"

api DELETE "/attachments/$OTHER" > /dev/null
assert_clean "$VOL"
