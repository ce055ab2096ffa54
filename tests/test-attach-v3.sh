#!/usr/bin/env bash
# local-attach and local-detach through the attachments API (the
# negotiated microversion), as the non-admin user demo: attach by name,
# list, a pattern written on the loop device, detach (volume available,
# nothing left here), attach again by ID and read the pattern back, an
# ext4 filesystem made, mounted and used, local-detach refused while it
# is mounted (nothing changed in Cinder), then a read-only attach that
# rejects writes.
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
require_cmd mkfs.ext4
attach_init

NAME=cb-attach-v3-$$
new_volume "$NAME"
pattern_file "$T/pattern" 1048576 165

s=$EPOCHREALTIME
attach "$NAME"
note "attach: $(bc <<< "$EPOCHREALTIME - $s") s"
[ "$(jq -r .volume_id "$T/out")" = "$VOL" ] || fail "attached the wrong volume"
[ "$(jq -r .flow "$T/out")" = v3 ] || fail "not the attachments API: $(cat "$T/out")"
[ "$(jq -r .backend "$T/out")" = rbd ] || fail "backend is not rbd"
[ "$(vol_field "$VOL" status)" = in-use ] || fail "volume is not in-use once attached"
[ "$(stat -c %a /run/cinder-brick/$VOL.json)" = 600 ] || fail "state file is not 0600"
[ "$(stat -c %a /run/cinder-brick)" = 700 ] || fail "state dir is not 0700"
! grep -qi keyring "/run/cinder-brick/$VOL.json" || fail "the state holds a keyring"
! grep -qa keyring "/proc/$PID/cmdline" || fail "the keyring is in the export's argv"
! ss -tnp | grep "pid=$PID," | grep -q ':8776 ' || fail "the export inherited the Cinder connection"
must list
grep -q "^$VOL  $ATT  $DEV .* rbd .* $PID  ok$" "$T/out" || fail "list: $(cat "$T/out")"
must list --json
[ "$(jq -r ".[] | select(.volume_id == \"$VOL\") | .health" "$T/out")" = ok ] ||
	fail "list --json: $(cat "$T/out")"
dd if="$T/pattern" of="$DEV" bs=1M oflag=direct status=none || fail "cannot write $DEV"

s=$EPOCHREALTIME
must local-detach "$NAME"
note "detach: $(bc <<< "$EPOCHREALTIME - $s") s"
wait_gone "$PID" || fail "the serving process outlived local-detach"
assert_clean "$VOL"

attach "$VOL"
cmp <(head -c 1048576 "$DEV") "$T/pattern" || fail "the pattern did not survive detach/attach"
echo "ok - pattern read back after detach and attach by ID"

mkfs.ext4 -q -F "$DEV" || fail "mkfs.ext4 $DEV"
mkdir "$T/mnt"
mount "$DEV" "$T/mnt" || fail "cannot mount $DEV"
echo hello > "$T/mnt/file" && sync || fail "cannot write a file on $DEV"
must_fail 1 "unmount it first" local-detach "$VOL"
[ "$(vol_field "$VOL" status)" = in-use ] || fail "a refused detach changed the volume"
[ -e "/run/cinder-brick/$VOL.json" ] || fail "a refused detach removed the state"
assert_alive "$PID" "after a refused detach"
[ "$(cat "$T/mnt/file")" = hello ] || fail "the file is gone"
umount "$T/mnt" || fail "umount"
must local-detach "$VOL"
assert_clean "$VOL"
echo "ok - mounted ext4; detach refused while mounted, then done"

attach --mode ro "$NAME"
[ "$(jq -r .mode "$T/out")" = ro ] || fail "mode is not ro"
dd if=/dev/zero of="$DEV" bs=4k count=1 oflag=direct status=none 2> /dev/null &&
	fail "a write to a read-only attachment succeeded"
mount -o ro "$DEV" "$T/mnt" && [ "$(cat "$T/mnt/file")" = hello ] ||
	fail "cannot read the file read-only"
umount "$T/mnt"
must local-detach "$NAME"
assert_clean "$VOL"
echo "ok - read-only attachment rejects writes"
