#!/usr/bin/env bash
# export --kernel-nbd, inside a VM with Debian's kernel: the volume becomes
# /dev/nbdN over netlink and over the ioctl interface, carries ext4 and
# data that ends up in the file, goes away on SIGTERM (size 0); read-only
# is read-only in the block layer; the volume's 4096-byte blocks are the
# device's; the device carries the export's identifier; 8 exports started
# at once get 8 distinct devices, none clobbered.
. "${TESTS_SRCDIR:?must name the tests directory}/kernel-nbd-lib.sh" || exit 99

# --- netlink, ext4, data in the file, teardown
make_disk "$T/vol" 64M
make_ci "$T/vol"
kn_start --nbd-interface netlink
[ "$(blockdev --getsize64 "$DEV")" = $((64 << 20)) ] || fail "$DEV is not 64 MiB"
[ "$(kn_sys "$DEV" queue/logical_block_size)" = 512 ] || fail "a file's device has no 512-byte blocks"
[[ "$(kn_sys "$DEV" backend)" == cinder-brick-export-* ]] ||
	fail "/sys/block/.../backend is '$(kn_sys "$DEV" backend)', not the export's identifier"
mkfs.ext4 -q "$DEV" || fail "mkfs.ext4 $DEV"
mkdir "$T/mnt"
mount "$DEV" "$T/mnt" || fail "mount $DEV"
head -c 8M /dev/urandom > "$T/data"
cp "$T/data" "$T/mnt/data" || fail "writing to the filesystem on $DEV"
umount "$T/mnt" || fail "umount $DEV"
kn_stop "$SERVER_PID" "$DEV"
mount -o loop,ro "$T/vol" "$T/mnt" || fail "the volume file holds no filesystem after the stop"
cmp "$T/data" "$T/mnt/data" || fail "the data written through $DEV is not in the volume file"
umount "$T/mnt"
echo "ok - netlink: ext4 on $DEV, data in the file, gone after SIGTERM"

# --- ioctl: the server process holds the device (NBD_DO_IT)
make_disk "$T/vol" 16M
kn_start --nbd-interface ioctl --verbose
# The kernel shows the thread in NBD_DO_IT.
[ -d "/proc/$SERVER_PID/task/$(kn_sys "$DEV" pid)" ] ||
	fail "/sys/block/.../pid is '$(kn_sys "$DEV" pid)', no thread of the server $SERVER_PID"
head -c 4M /dev/urandom > "$T/data"
dd if="$T/data" of="$DEV" bs=1M seek=2 oflag=direct status=none || fail "write to $DEV"
dd if="$DEV" of="$T/back" bs=1M skip=2 count=4 iflag=direct status=none || fail "read $DEV"
cmp "$T/data" "$T/back" || fail "$DEV reads back other data (ioctl)"
kn_stop "$SERVER_PID" "$DEV"
cmp -n $((4 << 20)) -i 0:$((2 << 20)) "$T/data" "$T/vol" ||
	fail "the data written through $DEV (ioctl) is not in the file"
echo "ok - ioctl: $DEV served by the export's own process, data in the file"

# --- read-only
pattern_file "$T/vol" 4M 171
kn_start --read-only
[ "$(blockdev --getro "$DEV")" = 1 ] || fail "a --read-only export gave a writable $DEV"
! dd if=/dev/zero of="$DEV" bs=4k count=1 oflag=direct status=none 2> "$T/err" ||
	fail "a write to the read-only $DEV succeeded"
kn_stop "$SERVER_PID" "$DEV"
[ "$(sha "$T/vol")" = "$(pattern_file "$T/want" 4M 171; sha "$T/want")" ] ||
	fail "the read-only volume changed"
echo "ok - --read-only: $DEV is read-only in the block layer ($(head -c 60 "$T/err"))"

# --- a volume of 4096-byte blocks
truncate -s 32M "$T/vol4k"
BASE=$(losetup -b 4096 --show -f "$T/vol4k") || fail "losetup -b 4096"
make_ci "$BASE"
kn_start
[ "$(kn_sys "$DEV" queue/logical_block_size)" = 4096 ] ||
	fail "$DEV has $(kn_sys "$DEV" queue/logical_block_size)-byte blocks, not the volume's 4096"
kn_stop "$SERVER_PID" "$DEV"
losetup -d "$BASE"
echo "ok - a 4096-byte volume gives a device of 4096-byte blocks"

# --- 8 at once
for i in 1 2 3 4 5 6 7 8; do
	pattern_file "$T/v$i" 1M 0
	make_ci "$T/v$i" "$T/ci$i.json"
done
for i in 1 2 3 4 5 6 7 8; do
	"$CINDER_BRICK" export --connection-info "$T/ci$i.json" --kernel-nbd \
		--pidfile "$T/p$i" > "$T/o$i" 2> "$T/e$i" &
done
wait
for i in 1 2 3 4 5 6 7 8; do
	[ -s "$T/p$i" ] || fail "export $i of 8 failed: $(cat "$T/e$i")"
	SERVER_PIDS+=("$(cat "$T/p$i")")
	sed -n 's/^nbd: //p' "$T/o$i"
done > "$T/devs"
[ "$(sort -u "$T/devs" | wc -l)" = 8 ] || fail "8 exports got devices: $(tr '\n' ' ' < "$T/devs")"
for i in 1 2 3 4 5 6 7 8; do
	dev=$(sed -n "${i}p" "$T/devs")
	printf 'volume %d\n' "$i" | dd of="$dev" bs=512 conv=sync oflag=direct status=none ||
		fail "write to $dev"
done
for i in 1 2 3 4 5 6 7 8; do
	kn_stop "$(cat "$T/p$i")" "$(sed -n "${i}p" "$T/devs")"
	[ "$(head -c 9 "$T/v$i")" = "volume $i" ] || fail "volume $i holds '$(head -c 9 "$T/v$i")'"
done
echo "ok - 8 exports at once: 8 distinct devices, each volume got its own data"
