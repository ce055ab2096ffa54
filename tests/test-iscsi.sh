#!/usr/bin/env bash
# The iscsi backend against a real iSCSI target, tgtd, started here on
# 127.0.0.1 with a file backing store, and connection_info shaped as
# Cinder's LVM driver (tgtadm target helper) returns it: data read and
# written through NBD (nbdcopy, fio verify) and checked against the file;
# CHAP; SendTargets discovery with discovery CHAP; a thin LUN's trim,
# zeroes and map; a 4096-byte LUN served with 4096-byte blocks; ext4 on a
# loop device over the FUSE export; and the refusals, each naming the
# portal and the cause and never the secret: a wrong CHAP password, no
# CHAP where the target wants it, an ACL without this host's IQN, an
# unknown IQN.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
. "$TESTS_SRCDIR/iscsi-lib.sh"
require_cmd nbdcopy nbdinfo fio

make_disk "$T/lun.img" 64M random
tgt_start a
iscsi_ci a
start_unix
nbdcopy "$NBD_URI" "$T/read" || fail "nbdcopy from the iSCSI LUN"
cmp "$T/read" "$T/lun.img" || fail "the LUN reads other data than its backing file"
make_disk "$T/in" 64M random
nbdcopy --flush --request-size=8388608 "$T/in" "$NBD_URI" || fail "nbdcopy to the iSCSI LUN"
cmp "$T/in" "$T/lun.img" || fail "the backing file does not hold what was written"
fio --name=verify --ioengine=nbd --uri="$NBD_URI" --rw=randwrite --bs=4k --iodepth=32 \
	--size=64M --verify=crc32c --verify_fatal=1 > "$T/fio" 2>&1 ||
	fail "fio verify on the iSCSI LUN: $(tail -5 "$T/fio")"
info=$(nbdinfo --json "$NBD_URI") || fail "nbdinfo"
[ "$(jq '.exports[0]."export-size"' <<< "$info")" = $((64 << 20)) ] || fail "export size: $info"
[ "$(jq '.exports[0]."block_size_minimum"' <<< "$info")" = 512 ] || fail "block size: $info"
stop_server "$SERVER_PID"
echo "ok - a LUN read and written (nbdcopy 8 MiB requests, fio verify) matches its file"

# CHAP: the target admits the user and password it was given, no other.
TGT_CHAP_USER=cinder-$$ TGT_CHAP_PASSWORD=Secret-$RANDOM-$$
tgt_adm a --op new --mode account --user "$TGT_CHAP_USER" --password "$TGT_CHAP_PASSWORD"
tgt_adm a --op bind --mode account --tid 1 --user "$TGT_CHAP_USER"
iscsi_ci a
start_unix
nbdcopy "$NBD_URI" "$T/read" && cmp "$T/read" "$T/lun.img" || fail "reading the LUN with CHAP"
stop_server "$SERVER_PID"
echo "ok - CHAP: the target's user and password log in"

# refused WHAT PATTERN: the export fails, naming the portal and the cause,
# and never printing the password of the connection_info.
refused() {
	local pw

	pw=$(jq -r '.data.auth_password // empty' "$T/ci.json")
	! "$CINDER_BRICK" export --connection-info "$T/ci.json" --nbd "unix:$T/r.sock" \
		> "$T/out" 2> "$T/err" || fail "export with $1 succeeded"
	grep -qF -- "${TGT_PORTAL[a]}" "$T/err" || fail "$1: the portal is not named: $(cat "$T/err")"
	grep -q -- "$2" "$T/err" || fail "$1: '$2' not in: $(cat "$T/err")"
	[ -z "$pw" ] || ! grep -qF -- "$pw" "$T/out" "$T/err" || fail "$1: the password was printed"
}
CI_PASSWORD=wrong-$RANDOM iscsi_ci a
refused "a wrong CHAP password" "refused the CHAP user and password"
TGT_CHAP_USER='' iscsi_ci a
refused "no CHAP" "wants CHAP credentials"
iscsi_ci a
tgt_adm a --op unbind --mode target --tid 1 --initiator-address ALL
tgt_bind a iqn.2004-10.org.example:someone-else
refused "an ACL of another initiator" "does not admit this host's initiator name $INITIATOR"
tgt_bind a "$INITIATOR"
start_unix
stop_server "$SERVER_PID"
jq ".data.target_iqn = \"$TGT_IQN-none\"" "$T/ci.json" > "$T/ci2.json" && mv "$T/ci2.json" "$T/ci.json"
refused "an unknown IQN" "has no target of that IQN"
echo "ok - refused, naming portal and cause, no secret printed: wrong CHAP, no CHAP, ACL, unknown IQN"

# SendTargets discovery: --multipath with one portal named asks it for
# the target's portals (tgtd lists only the one asked), with discovery
# CHAP (tgtd: an account bound to no target guards discovery).
iscsi_ci a
tgt_adm a --op new --mode account --user disc-user --password "disc-pw-$$"
tgt_adm a --op bind --mode account --user disc-user
start_fg --multipath
grep -q "SendTargets discovery at ${TGT_PORTAL[a]}: cannot log in: .*wants discovery CHAP credentials.*serving on the one portal" "$SERVER_ERR" ||
	fail "discovery without its CHAP credentials: $(cat "$SERVER_ERR")"
nbdinfo "$NBD_URI" > /dev/null || fail "not served on the one portal after discovery failed"
stop_server "$SERVER_PID"
discovery_ci() {
	jq --arg pw "$1" '.data += {discovery_auth_method: "CHAP",
		discovery_auth_username: "disc-user", discovery_auth_password: $pw}' \
		"$T/ci.json" > "$T/ci-disc.json"
}
discovery_ci "wrong-disc-pw-$$"
"$CINDER_BRICK" export --connection-info "$T/ci-disc.json" --nbd "unix:$T/d.sock" \
	--multipath --enforce-multipath > "$T/out" 2> "$T/err" &&
	fail "--enforce-multipath served after discovery failed"
grep -q "multipath is enforced, but the connection_info names one portal, and SendTargets discovery at ${TGT_PORTAL[a]}: cannot log in: .*refused the discovery CHAP user and password" "$T/err" ||
	fail "a wrong discovery password: $(cat "$T/err")"
! grep -qF "wrong-disc-pw-$$" "$T/out" "$T/err" || fail "the discovery password was printed"
discovery_ci "disc-pw-$$"
cp "$T/ci-disc.json" "$T/ci.json"
start_fg --multipath
! grep -q "SendTargets" "$SERVER_ERR" || fail "discovery with its credentials: $(cat "$SERVER_ERR")"
nbdinfo "$NBD_URI" > /dev/null || fail "not served after discovery"
stop_server "$SERVER_PID"
tgt_adm a --op unbind --mode account --user disc-user
tgt_adm a --op delete --mode account --user disc-user
iscsi_ci a
echo "ok - SendTargets discovery for --multipath on one portal: with discovery CHAP, refused (named, no secret), missing"

# A thin LUN (tgtd's thin_provisioning): trim is UNMAP, zeroes that may be
# a hole WRITE SAME with UNMAP, other zeroes written; the map is GET LBA
# STATUS's, and holes are punched in the backing file.
make_disk "$T/thin.img" 16M
tgt_adm a --op new --mode logicalunit --tid 1 --lun 3 -b "$T/thin.img"
tgt_adm a --op update --mode logicalunit --tid 1 --lun 3 --params thin_provisioning=1
iscsi_ci a
jq '.data.target_lun = 3' "$T/ci.json" > "$T/ci2.json" && mv "$T/ci2.json" "$T/ci.json"
start_unix
info=$(nbdinfo --json "$NBD_URI") || fail "nbdinfo"
[ "$(jq '.exports[0] | [.can_trim, .can_zero] | all' <<< "$info")" = true ] ||
	fail "a thin LUN is served without trim or zero: $info"
qemu-io -f raw -c "write -P 7 0 4M" -c "discard 1M 1M" -c "write -z -u 2M 1M" \
	-c "write -z 3M 512k" -c "read -P 0 1M 2560k" -c "read -P 7 3584k 512k" "$NBD_URI" \
	> "$T/qio" 2>&1 || fail "qemu-io on the thin LUN: $(cat "$T/qio")"
! grep -q "failed" "$T/qio" || fail "qemu-io on the thin LUN: $(cat "$T/qio")"
nbdinfo --map "$NBD_URI" | awk '{print $1, $2, $3}' > "$T/map"
printf '%s\n' "0 1048576 0" "1048576 2097152 3" "3145728 1048576 0" "4194304 12582912 3" |
	cmp - "$T/map" > /dev/null || fail "the thin LUN's map: $(cat "$T/map")"
[ "$(du -k "$T/thin.img" | cut -f1)" -le 2048 ] || fail "no hole punched in the backing file"
stop_server "$SERVER_PID"
echo "ok - a thin LUN: trim, zeroes as holes or written, the allocation map from GET LBA STATUS"

# A 4096-byte LUN: served with 4096-byte blocks, so the loop device over
# the FUSE file has them too; ext4 on it, checked in the backing file.
if built fuse; then
	make_disk "$T/lun4k.img" 64M
	tgt_adm a --op new --mode logicalunit --tid 1 --lun 2 -b "$T/lun4k.img" \
		--blocksize 4096
	iscsi_ci a
	jq '.data.target_lun = 2' "$T/ci.json" > "$T/ci2.json" && mv "$T/ci2.json" "$T/ci.json"
	mkdir "$T/fuse" "$T/mnt"
	start_unix --fuse "$T/fuse" --loop
	DEV=$(sed -n 's/^loop: //p' "$SERVER_OUT")
	[ "$(blockdev --getss "$DEV")" = 4096 ] || fail "$DEV has $(blockdev --getss "$DEV")-byte sectors"
	[ "$(nbdinfo --json "$NBD_URI" | jq '.exports[0]."block_size_minimum"')" = 4096 ] ||
		fail "the NBD export's minimum block size is not 4096"
	ext4_through "$DEV" "$T/lun4k.img"
	echo "ok - a 4096-byte LUN: 4096-byte loop device and NBD blocks, ext4 over FUSE + loop"
fi
