#!/usr/bin/env bash
# The lab's iSCSI volumes (scripts/lab's volume type iscsi: RBD images that
# a lab-only Cinder driver exports through tgtd), through the real Cinder
# API and libiscsi's own tools, with no kernel initiator: a connector with
# no initiator is refused; an attachment with cinder-brick's connector gets
# connection_info shaped as Cinder's LVM driver gives it (two portals,
# CHAP); the LUN answers with the volume's size on both portals, and a
# wrong CHAP password, no CHAP and another initiator are refused; a pattern
# written through it (qemu-io's iscsi driver) is in the RBD image once
# deleting the attachment has taken the target and its account away.  No
# secret is printed, nor put on a command line.
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
require_cmd iscsi-inq iscsi-readcapacity16 iscsi-ls tgtadm qemu-io rbd
LAB=${LAB_STATE:-/var/lib/cinder-brick-lab}
attach_init

# scripts/lab's tgtd: TGTD_PORTALS and TGTD_CONTROL_PORT there.
PORTALS='["127.0.0.1:3260","127.0.0.1:3261"]'
tgt_show() { tgtadm -C 3260 --lld iscsi --op show --mode "$1"; }
tgt_show sys > /dev/null || fail "no lab tgtd on control port 3260: scripts/lab up"
api GET /types | jq -e '.volume_types[] | select(.name == "iscsi")' > /dev/null ||
	fail "no volume type iscsi: scripts/lab up makes it"

NAME=cb-lab-iscsi-$$
new_volume "$NAME" iscsi
IQN=iqn.2010-10.org.openstack:volume-$VOL
"$CINDER_BRICK" get-connector --json > "$T/connector.json" || fail "get-connector --json"
INITIATOR=$(jq -r .initiator "$T/connector.json")

# attach CONNECTOR_JSON: POST /attachments; the answer in $T/att.json.
attach_with() {
	api POST /attachments "{\"attachment\": {\"volume_uuid\": \"$VOL\", \"connector\": $1}}" \
		> "$T/att.json"
}

attach_with "$(jq -c 'del(.initiator)' "$T/connector.json")"
jq -e .attachment.connection_info "$T/att.json" > /dev/null 2>&1 &&
	fail "an attachment without an initiator got connection_info"
grep -q initiator "$T/att.json" || fail "the refusal does not name the initiator: $(cat "$T/att.json")"
api GET "/attachments?volume_id=$VOL" | jq -r '.attachments[].id' |
	while read -r a; do api DELETE "/attachments/$a" > /dev/null; done
wait_status "$VOL" available
echo "ok - a connector without an initiator is refused"

attach_with "$(cat "$T/connector.json")"
ATT=$(jq -r .attachment.id "$T/att.json")
[ -n "$ATT" ] && [ "$ATT" != null ] ||
	fail "no attachment: $(jq -c '.attachment.connection_info.auth_password = "***"' "$T/att.json")"
jq .attachment.connection_info "$T/att.json" > "$T/ci.json"
shown() { jq -c '.auth_password = "***"' "$T/ci.json"; }
# Exactly the keys of Cinder's LVM driver with two portals, as the
# attachments API flattens them (the volume manager adds the last five).
want='["access_mode","attachment_id","auth_method","auth_password","auth_username",
"cacheable","discard","driver_volume_type","encrypted","qos_specs","target_discovered",
"target_iqn","target_iqns","target_lun","target_luns","target_portal","target_portals",
"volume_id"]'
jq -e --argjson w "$want" 'keys == $w' "$T/ci.json" > /dev/null ||
	fail "connection_info keys: $(jq -c keys "$T/ci.json")"
jq -e --arg iqn "$IQN" --arg vol "$VOL" --arg att "$ATT" --argjson portals "$PORTALS" '
	.driver_volume_type == "iscsi" and .target_discovered == false and
	.target_portal == $portals[0] and .target_portals == $portals and
	.target_iqn == $iqn and .target_iqns == [$iqn, $iqn] and
	.target_lun == 1 and .target_luns == [1, 1] and
	.volume_id == $vol and .attachment_id == $att and .access_mode == "rw" and
	.discard == true and .encrypted == false and .auth_method == "CHAP" and
	(.auth_username | length) >= 16 and (.auth_password | length) >= 16' \
	"$T/ci.json" > /dev/null || fail "connection_info: $(shown)"
echo "ok - connection_info as Cinder's LVM driver gives it: $(shown)"

# The credentials reach libiscsi through its environment, never argv.
USERNAME=$(jq -r .auth_username "$T/ci.json")
PASSWORD=$(jq -r .auth_password "$T/ci.json")
# iscsi USER PASSWORD INITIATOR TOOL PORTAL [ARGS]: TOOL on LUN 1 of the
# volume's target at PORTAL (no CHAP when USER is empty); its output in
# $T/iscsi.out and .err.
iscsi() {
	local user=$1 password=$2 initiator=$3 tool=$4 portal=$5

	shift 5
	(
		[ -z "$user" ] || export LIBISCSI_CHAP_USERNAME=$user LIBISCSI_CHAP_PASSWORD=$password
		exec timeout 30 "$tool" -i "$initiator" "$@" "iscsi://$portal/$IQN/1"
	) > "$T/iscsi.out" 2> "$T/iscsi.err"
}

for portal in 127.0.0.1:3260 127.0.0.1:3261; do
	iscsi "$USERNAME" "$PASSWORD" "$INITIATOR" iscsi-readcapacity16 "$portal" -s ||
		fail "READ CAPACITY 16 on $portal: $(cat "$T/iscsi.err")"
	[ "$(cat "$T/iscsi.out")" = $((1024 * 1024 * 1024)) ] ||
		fail "the LUN on $portal is $(cat "$T/iscsi.out") bytes, not the volume's 1 GiB"
	iscsi "$USERNAME" "$PASSWORD" "$INITIATOR" iscsi-inq "$portal" ||
		fail "INQUIRY on $portal: $(cat "$T/iscsi.err")"
	grep -q '^Peripheral Device Type:DIRECT_ACCESS' "$T/iscsi.out" ||
		fail "LUN 1 on $portal is not a disk: $(cat "$T/iscsi.out")"
done
LIBISCSI_CHAP_USERNAME=$USERNAME LIBISCSI_CHAP_PASSWORD=$PASSWORD \
	timeout 30 iscsi-ls -s -i "$INITIATOR" iscsi://127.0.0.1:3260 > "$T/ls.out" 2>&1 ||
	fail "iscsi-ls: $(cat "$T/ls.out")"
grep -q "^Target:$IQN " "$T/ls.out" && grep -q 'Lun:1 .*DIRECT_ACCESS' "$T/ls.out" ||
	fail "iscsi-ls does not show the target's LUN 1: $(cat "$T/ls.out")"
echo "ok - LUN 1 has the volume's size on both portals"

iscsi "$USERNAME" "${PASSWORD}x" "$INITIATOR" iscsi-inq 127.0.0.1:3260 &&
	fail "a wrong CHAP password logged in"
grep -q 'Authentication failure' "$T/iscsi.err" || fail "a wrong password: $(cat "$T/iscsi.err")"
iscsi "" "" "$INITIATOR" iscsi-inq 127.0.0.1:3260 && fail "a login without CHAP succeeded"
grep -q 'Authentication failure' "$T/iscsi.err" || fail "no CHAP: $(cat "$T/iscsi.err")"
iscsi "$USERNAME" "$PASSWORD" iqn.1993-08.org.debian:01:not-attached iscsi-inq 127.0.0.1:3261 &&
	fail "an initiator the ACL does not name logged in"
grep -q 'Target not found' "$T/iscsi.err" || fail "another initiator: $(cat "$T/iscsi.err")"
echo "ok - a wrong password, no CHAP and another initiator are refused"

# qemu-io reads the password from a file of $T (0600, in a 0700 dir).
(umask 077 && jq -j .auth_password "$T/ci.json" > "$T/password")
head -c 1048576 /dev/urandom > "$T/pattern" || fail "cannot make a pattern"
timeout 60 qemu-io --object secret,id=pw,file="$T/password" --image-opts "driver=raw,\
file.driver=iscsi,file.transport=tcp,file.portal=127.0.0.1:3261,file.target=$IQN,\
file.lun=1,file.user=$USERNAME,file.password-secret=pw,file.initiator-name=$INITIATOR" \
	-c "write -s $T/pattern 0 1M" > "$T/qemu-io.out" 2>&1 ||
	fail "qemu-io's write through the target: $(cat "$T/qemu-io.out")"

api DELETE "/attachments/$ATT" > /dev/null
wait_status "$VOL" available
! tgt_show target | grep -q "$IQN" || fail "the target outlived the attachment: $(tgt_show target)"
! tgt_show account | grep -qw -- "$USERNAME" || fail "the CHAP account outlived the attachment"
iscsi "$USERNAME" "$PASSWORD" "$INITIATOR" iscsi-inq 127.0.0.1:3260 &&
	fail "the target answers once the attachment is gone"
echo "ok - deleting the attachment takes the target and its account away"
cmp -n 1048576 "$T/pattern" <(timeout 120 rbd -c "$LAB/ceph/ceph.conf" export --no-progress \
	"volumes/volume-$VOL" - 2> /dev/null) || fail "what was written over iSCSI is not in the RBD image"
echo "ok - what was written over iSCSI is in the RBD image"
