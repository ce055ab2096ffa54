# fallocate through the FUSE file: punch-hole and zero-range read back as
# zeroes (punching deallocates in the backing file), plain allocation inside
# the volume is a no-op, and fsync reaches the backend.  The same operations
# on an ordinary copy of the data give the expected result.
source "$(dirname "$0")/fuse-lib.sh"
fx_init

head -c 16M /dev/urandom > "$T/vol"
cp "$T/vol" "$T/expect"
fx_conninfo "$T/vol"
touch "$T/mnt"
fx_start --fuse "$T/mnt"

both() {	# fallocate ARGS applied to the FUSE file and to the reference copy
	fallocate "$@" "$FUSE_FILE" || fx_fail "fallocate $* on the FUSE file"
	fallocate "$@" "$T/expect" || fx_fail "fallocate $* on the reference"
}

# Whether the scratch file system can deallocate at all.
head -c 1M /dev/urandom > "$T/probe"
can_punch=false
fallocate --punch-hole --offset 0 --length 1M "$T/probe" 2>/dev/null && can_punch=true

blocks_before=$(stat -c %b "$T/vol")
both --punch-hole --offset 1M --length 2M
blocks_after=$(stat -c %b "$T/vol")
if $can_punch; then
	((blocks_before - blocks_after >= (2 << 20) / 512)) ||
		fx_fail "punch-hole freed $((blocks_before - blocks_after)) sectors, expected 4096"
else
	echo "$T cannot punch holes: not checking deallocation" >&2
fi
cmp -n $((2 << 20)) <(tail -c +$((1 << 20 | 1)) "$FUSE_FILE") /dev/zero ||
	fx_fail "punched range does not read as zeroes"

both --zero-range --offset 5M --length 1M
cmp -n $((1 << 20)) <(tail -c +$((5 << 20 | 1)) "$FUSE_FILE") /dev/zero ||
	fx_fail "zeroed range does not read as zeroes"

# Unaligned ranges zero exactly the bytes asked for.
both --punch-hole --offset 12345 --length 5000
both --zero-range --offset $((9 << 20 | 77)) --length 70000

# Allocating inside the volume succeeds; growing it cannot.
both --offset 0 --length 4M
if fallocate --length 32M "$FUSE_FILE" 2>/dev/null; then
	fx_fail "fallocate beyond the end of the volume succeeded"
fi

cmp "$FUSE_FILE" "$T/expect" || fx_fail "FUSE file differs from the reference"
cmp "$T/vol" "$T/expect" || fx_fail "backing file differs from the reference"

head -c 1M /dev/urandom > "$T/data"
dd if="$T/data" of="$FUSE_FILE" bs=1M seek=3 conv=notrunc,fsync status=none ||
	fx_fail "write with fsync"
sync -d "$FUSE_FILE" || fx_fail "fdatasync"
cmp -n $((1 << 20)) <(tail -c +$((3 << 20 | 1)) "$T/vol") "$T/data" ||
	fx_fail "fsynced data is not in the backing file"

fx_stop "$SERVER_PID"
fx_check_torn_down
exit 0
