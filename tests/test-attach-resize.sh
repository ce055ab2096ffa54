#!/usr/bin/env bash
# resize after Cinder extends an attached volume, end to end through the
# lab's real Cinder and Ceph: an ext4 filesystem on the attached volume,
# os-extend of the in-use volume (microversion 3.42 and later), then
# 'cinder-brick resize': the device grows to Cinder's new size while
# mounted, resize2fs grows the filesystem (online where the process may),
# the data is intact; resize when
# nothing changed is a no-op, and a volume not attached here is refused.
. "${TESTS_SRCDIR:?must name the tests directory}/attach-lib.sh" || exit 99
require_cmd mkfs.ext4 resize2fs blockdev
attach_init

NAME=cb-attach-resize-$$
new_volume "$NAME"
must_fail 1 "is not attached here" resize "$VOL"
attach "$NAME"
mkfs.ext4 -q -F "$DEV" || fail "mkfs.ext4 $DEV"
mkdir "$T/mnt"
mount "$DEV" "$T/mnt" || fail "cannot mount $DEV"
head -c 8M /dev/urandom > "$T/data"
cp "$T/data" "$T/mnt/data" && sync || fail "cannot write to $DEV"
must resize "$VOL"
[ "$(cat "$T/out")" = $((1 << 30)) ] || fail "resize with nothing to do printed '$(cat "$T/out")'"
echo "ok - resize before any extend: nothing to do, $DEV stays 1 GiB"

before=$(df -k --output=size "$T/mnt" | tail -1)
api POST "/volumes/$VOL/action" '{"os-extend": {"new_size": 2}}' > "$T/extend" ||
	fail "os-extend: $(cat "$T/extend")"
for ((i = 0; i < 300; i++)); do
	[ "$(vol_field "$VOL" size)" = 2 ] && [ "$(vol_field "$VOL" status)" = in-use ] && break
	sleep 0.2
done
[ "$(vol_field "$VOL" size)" = 2 ] || fail "Cinder did not extend the volume: $(cat "$T/extend")"
must resize "$NAME"
[ "$(cat "$T/out")" = $((2 << 30)) ] || fail "resize printed '$(cat "$T/out")', not 2 GiB"
[ "$(blockdev --getsize64 "$DEV")" = $((2 << 30)) ] || fail "$DEV did not grow"
# Online growth needs CAP_SYS_RESOURCE (bit 24), which a container may lack.
if (( 0x$(sed -n 's/^CapEff:\t//p' /proc/self/status) >> 24 & 1 )); then
	how=online
else
	how="offline: no CAP_SYS_RESOURCE here"
	umount "$T/mnt" && e2fsck -f -p "$DEV" > /dev/null || fail "umount and e2fsck $DEV"
fi
resize2fs "$DEV" > "$T/r2fs" 2>&1 || fail "resize2fs ($how): $(cat "$T/r2fs")"
mountpoint -q "$T/mnt" || mount "$DEV" "$T/mnt" || fail "cannot mount $DEV again"
[ "$(df -k --output=size "$T/mnt" | tail -1)" -gt "$before" ] || fail "the filesystem did not grow"
cmp "$T/data" "$T/mnt/data" || fail "the data changed across the resize"
umount "$T/mnt" || fail "umount"
must local-detach "$VOL"
assert_clean "$VOL"
echo "ok - os-extend of the in-use volume, resize: $DEV grew to 2 GiB, resize2fs ($how), data intact"
