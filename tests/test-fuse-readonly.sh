# --read-only: the FUSE file is mode 0400 and refuses writes, the loop
# device is read-only, and the backing file is untouched.
source "$(dirname "$0")/fuse-lib.sh"
fx_init

head -c 8M /dev/urandom > "$T/vol"
sum=$(sha256sum < "$T/vol")
fx_conninfo "$T/vol"
touch "$T/mnt"
args=(--fuse "$T/mnt" --read-only)
if [ "$(id -u)" -eq 0 ] && [ -c /dev/loop-control ]; then
	args+=(--loop)
else
	echo "not root or no loop driver: checking the FUSE file only" >&2
fi
fx_start "${args[@]}"

[ "$(stat -c %a "$FUSE_FILE")" = 400 ] || fx_fail "mode is $(stat -c %a "$FUSE_FILE"), not 400"
[ "$(sha256sum < "$FUSE_FILE")" = "$sum" ] || fx_fail "reads differ from the backing file"
if dd if=/dev/zero of="$FUSE_FILE" bs=4k count=1 conv=notrunc status=none 2>/dev/null; then
	fx_fail "a write through the read-only FUSE file succeeded"
fi
if fallocate --punch-hole --offset 0 --length 4096 "$FUSE_FILE" 2>/dev/null; then
	fx_fail "punching a hole in the read-only FUSE file succeeded"
fi

if [ -n "$LOOP_DEV" ]; then
	[ "$(blockdev --getro "$LOOP_DEV")" = 1 ] || fx_fail "$LOOP_DEV is not read-only"
	if dd if=/dev/zero of="$LOOP_DEV" bs=4k count=1 oflag=direct status=none 2>/dev/null; then
		fx_fail "a write to the read-only loop device succeeded"
	fi
	[ "$(sha256sum < "$LOOP_DEV")" = "$sum" ] || fx_fail "loop device reads differ"
fi

[ "$(sha256sum < "$T/vol")" = "$sum" ] || fx_fail "the backing file changed"
fx_stop "$SERVER_PID"
fx_check_torn_down
exit 0
