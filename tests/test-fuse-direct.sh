# FUSE over a backend opened with --direct-io (block_min > 1): reads of any
# alignment work, aligned writes and fallocate work, and unaligned writes
# are refused with EINVAL as on an O_DIRECT block device.
source "$(dirname "$0")/fuse-lib.sh"
fx_init

head -c 8M /dev/urandom > "$T/vol"
cp "$T/vol" "$T/expect"
fx_conninfo "$T/vol"
touch "$T/mnt"
if ! dd if="$T/vol" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null; then
	fx_skip "the file system of $T does not support O_DIRECT"
fi
fx_start --fuse "$T/mnt" --direct-io

# Odd offsets and lengths read the aligned blocks around them.
for spec in "3 1" "511 2" "4095 8193" "1000000 123457"; do
	set -- $spec
	cmp <(dd if="$FUSE_FILE" bs=1M iflag=skip_bytes,count_bytes skip="$1" count="$2" \
		status=none) <(dd if="$T/expect" bs=1M iflag=skip_bytes,count_bytes \
		skip="$1" count="$2" status=none) || fx_fail "read of $2 bytes at $1 differs"
done

head -c 1M /dev/urandom > "$T/data"
dd if="$T/data" of="$FUSE_FILE" bs=64k seek=5 conv=notrunc status=none || fx_fail "aligned write"
dd if="$T/data" of="$T/expect" bs=64k seek=5 conv=notrunc status=none
if dd if="$T/data" of="$FUSE_FILE" bs=100 count=1 seek=1 conv=notrunc status=none 2>/dev/null; then
	fx_fail "an unaligned write succeeded"
fi
fallocate --punch-hole --offset 4096 --length 8192 "$FUSE_FILE" || fx_fail "aligned punch-hole"
fallocate --punch-hole --offset 4096 --length 8192 "$T/expect"
if fallocate --zero-range --offset 100 --length 1000 "$FUSE_FILE" 2>/dev/null; then
	fx_fail "an unaligned zero-range succeeded"
fi

cmp "$FUSE_FILE" "$T/expect" || fx_fail "FUSE file differs from the reference"
cmp "$T/vol" "$T/expect" || fx_fail "backing file differs from the reference"
fx_stop "$SERVER_PID"
fx_check_torn_down
exit 0
