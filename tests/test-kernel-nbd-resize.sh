#!/usr/bin/env bash
# Growing a volume while it is attached, inside a VM with Debian's kernel.
# export --kernel-nbd: the file grows, SIGUSR1, and /dev/nbdN grows (over
# netlink and ioctl) and resize2fs grows the mounted ext4 online; a file
# that shrank is refused, the device keeps its size and is still served.
# resize VOLUME against a fake Cinder whose volume was extended: the
# device grows, as /dev/nbdN and as a loop device over a FUSE file; a
# Cinder size smaller than the device is refused.
. "${TESTS_SRCDIR:?must name the tests directory}/kernel-nbd-lib.sh" || exit 99
require_cmd resize2fs jq

# grown DEV BYTES: a bounded wait for the device to have that size.
grown() {
	wait_for 100 test "$(blockdev --getsize64 "$1")" = "$2" ||
		fail "$1 is $(blockdev --getsize64 "$1") bytes, not $2"
}

# fs_blocks MNT: the size of the filesystem mounted there, in 1K blocks.
fs_blocks() {
	df -k --output=size "$1" | tail -1 | tr -d ' '
}

mkdir "$T/mnt"
for how in netlink ioctl; do
	make_disk "$T/vol" 64M
	make_ci "$T/vol"
	kn_start --nbd-interface $how
	mkfs.ext4 -q "$DEV" && mount "$DEV" "$T/mnt" || fail "mkfs or mount on $DEV"
	head -c 4M /dev/urandom > "$T/data"
	cp "$T/data" "$T/mnt/data"
	before=$(fs_blocks "$T/mnt")
	truncate -s 96M "$T/vol"
	kill -USR1 "$SERVER_PID"
	grown "$DEV" $((96 << 20))
	resize2fs "$DEV" > "$T/r2fs" 2>&1 || fail "online resize2fs: $(cat "$T/r2fs")"
	[ "$(fs_blocks "$T/mnt")" -gt "$before" ] || fail "the filesystem did not grow"
	cmp "$T/data" "$T/mnt/data" || fail "data changed across the resize"
	# The end of the grown device reaches the file.
	head -c 4096 /dev/urandom > "$T/tail"
	umount "$T/mnt"
	dd if="$T/tail" of="$DEV" bs=4096 seek=$(((96 << 20) / 4096 - 1)) oflag=direct \
		status=none || fail "writing the last block of the grown $DEV"
	truncate -s 80M "$T/vol"
	kill -USR1 "$SERVER_PID"
	# A refused shrink leaves the device as it was, still served.
	dd if="$DEV" of=/dev/null bs=4096 count=1 iflag=direct status=none ||
		fail "$DEV is not served after a refused shrink"
	[ "$(blockdev --getsize64 "$DEV")" = $((96 << 20)) ] || fail "$DEV changed size on a shrink"
	assert_alive "$SERVER_PID" "after a refused shrink"
	kn_stop "$SERVER_PID" "$DEV"
	echo "ok - $how: the file grew, SIGUSR1, $DEV grew, resize2fs online; a shrink refused"
done

# --- resize VOLUME, after Cinder's extend
VOL=1d6f5a4e-3f1c-4a36-9f6e-000000000001
start_fake_cinder "$T/cinder.log" "$T/ci.json"
mkdir "$T/vols"
for export in nbd fuse; do
	rm -f "$T/ci.json.size"
	make_disk "$T/vols/disk.img" 1G
	make_ci "$T/vols/disk.img"
	"$CINDER_BRICK" local-attach --json --export $export --allow-local-path "$T/vols" \
		fakevol > "$T/out" 2> "$T/err" || fail "local-attach --export $export: $(cat "$T/err")"
	DEV=$(jq -r .device "$T/out")
	SERVER_PIDS+=("$(jq -r .pid "$T/out")")
	mkfs.ext4 -q "$DEV" && mount "$DEV" "$T/mnt" || fail "mkfs or mount on $DEV"
	truncate -s 2G "$T/vols/disk.img"
	echo 2 > "$T/ci.json.size"
	"$CINDER_BRICK" resize fakevol > "$T/out" 2> "$T/err" ||
		fail "resize ($export): $(cat "$T/err")"
	[ "$(cat "$T/out")" = $((2 << 30)) ] || fail "resize printed '$(cat "$T/out")', not 2 GiB"
	[ "$(blockdev --getsize64 "$DEV")" = $((2 << 30)) ] || fail "$DEV did not grow to 2 GiB"
	resize2fs "$DEV" > "$T/r2fs" 2>&1 || fail "online resize2fs on $DEV: $(cat "$T/r2fs")"
	echo 1 > "$T/ci.json.size"
	! "$CINDER_BRICK" resize fakevol > "$T/out" 2> "$T/err" ||
		fail "resize to a smaller Cinder size succeeded"
	grep -q "shrinking is refused" "$T/err" || fail "no clear refusal: $(cat "$T/err")"
	umount "$T/mnt"
	"$CINDER_BRICK" local-detach fakevol 2> "$T/err" || fail "local-detach: $(cat "$T/err")"
	echo "ok - resize VOLUME ($export): $DEV grew to Cinder's 2 GiB, resize2fs online; smaller refused"
done
