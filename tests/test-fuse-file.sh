# FUSE export mounted over an empty regular file: the file becomes the
# volume.  Data written through it must read back and land in the backing
# file; bad mountpoints must be refused with a message naming them.
source "$(dirname "$0")/fuse-lib.sh"
fx_init

truncate -s 64M "$T/vol"
fx_conninfo "$T/vol"

# A non-empty file would be hidden by the mount, a missing path is a typo.
echo precious > "$T/notempty"
if "$CINDER_BRICK" export --connection-info "$T/ci.json" --fuse "$T/notempty" \
	> /dev/null 2> "$T/err"; then
	fx_fail "mounting over a non-empty file succeeded"
fi
grep -q "$T/notempty" "$T/err" || fx_fail "error does not name the file: $(cat "$T/err")"
[ "$(cat "$T/notempty")" = precious ] || fx_fail "the non-empty mountpoint was modified"
if "$CINDER_BRICK" export --connection-info "$T/ci.json" --fuse "$T/missing" \
	> /dev/null 2> "$T/err"; then
	fx_fail "mounting on a missing path succeeded"
fi
grep -q "$T/missing" "$T/err" || fx_fail "error does not name the path: $(cat "$T/err")"

touch "$T/mnt"
fx_start --fuse "$T/mnt"
[ "$FUSE_FILE" = "$T/mnt" ] || fx_fail "fuse: line is '$FUSE_FILE', expected $T/mnt"
[ "$(stat -c %s "$FUSE_FILE")" = $((64 << 20)) ] || fx_fail "wrong size: $(stat -c %s "$FUSE_FILE")"
[ "$(stat -c %a "$FUSE_FILE")" = 600 ] || fx_fail "mode is $(stat -c %a "$FUSE_FILE"), not 600"
[ "$(stat -c %u "$FUSE_FILE")" = "$(id -u)" ] || fx_fail "not owned by the mounting user"

# Unaligned and odd-sized pieces, plus one write larger than a FUSE request.
head -c 5M /dev/urandom > "$T/big"
head -c 12345 /dev/urandom > "$T/small"
dd if="$T/big" of="$FUSE_FILE" bs=1M seek=7 conv=notrunc status=none || fx_fail "dd big"
dd if="$T/small" of="$FUSE_FILE" bs=1 seek=$((40 << 20 | 3)) conv=notrunc status=none 2>/dev/null ||
	fx_fail "dd small"
dd if="$T/big" of="$FUSE_FILE" bs=4M seek=15 count=1 oflag=direct conv=notrunc status=none ||
	fx_fail "dd O_DIRECT"

check_piece() {	# FILE OFFSET LENGTH REFERENCE
	cmp -n "$3" <(tail -c +$(($2 + 1)) "$1") "$4" ||
		fx_fail "$1 at $2 does not match $4"
}
for f in "$FUSE_FILE" "$T/vol"; do
	check_piece "$f" $((7 << 20)) $((5 << 20)) "$T/big"
	check_piece "$f" $((40 << 20 | 3)) 12345 "$T/small"
	check_piece "$f" $((60 << 20)) $((4 << 20)) "$T/big"
done

# Whole-volume view through FUSE equals the backing file.
[ "$(sha256sum < "$FUSE_FILE")" = "$(sha256sum < "$T/vol")" ] ||
	fx_fail "FUSE file and backing file differ"

# Writes past the end of a fixed-size volume fail, and the size holds.
if dd if=/dev/zero of="$FUSE_FILE" bs=4k seek=$((16 << 10)) count=1 conv=notrunc \
	status=none 2>/dev/null; then
	fx_fail "a write past the end succeeded"
fi
if truncate -s 1M "$FUSE_FILE" 2>/dev/null; then
	fx_fail "truncating the volume succeeded"
fi
# O_TRUNC is ignored as on a block device.
dd if="$T/small" of="$FUSE_FILE" bs=4k count=1 status=none 2>/dev/null || fx_fail "dd with O_TRUNC"
[ "$(stat -c %s "$FUSE_FILE")" = $((64 << 20)) ] || fx_fail "O_TRUNC changed the size"
check_piece "$T/vol" $((7 << 20)) $((5 << 20)) "$T/big"

fx_stop "$SERVER_PID"
fx_check_torn_down
[ ! -s "$T/mnt" ] || fx_fail "the mountpoint file was written to"
exit 0
