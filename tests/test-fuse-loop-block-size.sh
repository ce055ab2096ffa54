#!/usr/bin/env bash
# --loop gives the loop device the volume's logical block size: 4096 bytes
# for a volume on a device of 4096-byte sectors (a loop device made with
# losetup -b 4096), 512 for an ordinary file.  Data goes through each device
# to the volume and back, the FUSE file reports a matching st_blksize, and
# the export tears down cleanly, leaving the volume's own device alone.
source "$(dirname "$0")/fuse-lib.sh"
fx_init
fx_require_loop

# dd_check DEV: 1 MiB written through DEV (direct I/O) is on the volume
# $VOL, and what is written to the volume reads back through DEV.
dd_check() {
	head -c 1M /dev/urandom > "$T/in"
	dd if="$T/in" of="$1" bs=1M seek=3 oflag=direct status=none || fx_fail "write to $1"
	cmp -n $((1 << 20)) -i 0:$((3 << 20)) "$T/in" "$VOL" ||
		fx_fail "what was written through $1 is not on the volume"
	head -c 64K /dev/urandom > "$T/in2"
	dd if="$T/in2" of="$VOL" bs=64K seek=80 conv=notrunc,fsync status=none ||
		fx_fail "write to the volume $VOL"
	dd if="$1" of="$T/out" bs=64K skip=80 count=1 iflag=direct status=none ||
		fx_fail "read from $1"
	cmp "$T/in2" "$T/out" || fx_fail "what was written to the volume reads differently on $1"
}

# --- a volume with 4096-byte sectors
truncate -s 64M "$T/vol4k"
BASE=$(losetup -b 4096 --show -f "$T/vol4k") || fx_fail "losetup -b 4096"
# The volume's device is ours, not the export's: detached after everything.
trap 'fx_cleanup; losetup -d "$BASE"' EXIT
[ "$(blockdev --getss "$BASE")" = 4096 ] || fx_skip "losetup -b 4096 gave $BASE other sectors"
VOL=$BASE
fx_conninfo "$BASE"
mkdir "$T/d"
fx_start --fuse "$T/d" --loop
[ -b "$LOOP_DEV" ] || fx_fail "loop: line '$LOOP_DEV' is not a block device"
[ "$(blockdev --getss "$LOOP_DEV")" = 4096 ] ||
	fx_fail "$LOOP_DEV has $(blockdev --getss "$LOOP_DEV")-byte sectors, not the volume's 4096"
[ "$(stat -c %o "$FUSE_FILE")" = 4096 ] ||
	fx_fail "the FUSE file's st_blksize is $(stat -c %o "$FUSE_FILE"), not 4096"
dd_check "$LOOP_DEV"
# A device of 4096-byte sectors refuses I/O of 512.
! dd if=/dev/zero of="$LOOP_DEV" bs=512 count=1 seek=1 oflag=direct status=none 2> /dev/null ||
	fx_fail "$LOOP_DEV took a 512-byte direct write"
fx_stop "$SERVER_PID"
fx_check_torn_down
[ -e "/sys/block/${BASE#/dev/}/loop/backing_file" ] || fx_fail "the export detached $BASE"
cmp -n $((1 << 20)) -i 0:$((3 << 20)) "$T/in" "$BASE" || fx_fail "data lost at teardown"

# --- an ordinary file: 512-byte sectors
VOL=$T/vol
truncate -s 64M "$VOL"
fx_conninfo "$VOL"
touch "$T/f"
fx_start --fuse "$T/f" --loop
[ "$(blockdev --getss "$LOOP_DEV")" = 512 ] ||
	fx_fail "$LOOP_DEV over a file has $(blockdev --getss "$LOOP_DEV")-byte sectors, not 512"
dd_check "$LOOP_DEV"
fx_stop "$SERVER_PID"
fx_check_torn_down
exit 0
