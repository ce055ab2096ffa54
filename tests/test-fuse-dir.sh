# FUSE export on a directory: the volume appears as MOUNTPOINT/disk, the
# only entry, and data round-trips to the backing file.
source "$(dirname "$0")/fuse-lib.sh"
fx_init

truncate -s 32M "$T/vol"
fx_conninfo "$T/vol"
mkdir "$T/mnt"
fx_start --fuse "$T/mnt"
[ "$FUSE_FILE" = "$T/mnt/disk" ] || fx_fail "fuse: line is '$FUSE_FILE', expected $T/mnt/disk"
[ "$(ls -A "$T/mnt")" = disk ] || fx_fail "directory lists '$(ls -A "$T/mnt")', not just disk"
[ -f "$FUSE_FILE" ] || fx_fail "$FUSE_FILE is not a regular file"
[ "$(stat -c %s "$FUSE_FILE")" = $((32 << 20)) ] || fx_fail "wrong size"
[ ! -e "$T/mnt/other" ] || fx_fail "a name other than disk exists"
if touch "$T/mnt/new" 2>/dev/null; then
	fx_fail "creating a file in the export directory succeeded"
fi

head -c 3M /dev/urandom > "$T/data"
dd if="$T/data" of="$FUSE_FILE" bs=64k seek=17 conv=notrunc status=none || fx_fail "dd"
cmp -n $((3 << 20)) <(tail -c +$((17 * 65536 + 1)) "$T/vol") "$T/data" ||
	fx_fail "data did not land in the backing file"
cmp -n $((3 << 20)) <(tail -c +$((17 * 65536 + 1)) "$FUSE_FILE") "$T/data" ||
	fx_fail "data does not read back through FUSE"

# Writes to the backing file are visible at once: there is no FUSE cache.
head -c 4096 /dev/urandom > "$T/page"
dd if="$T/page" of="$T/vol" bs=4096 seek=100 conv=notrunc,fsync status=none || fx_fail "dd vol"
cmp -n 4096 <(tail -c +$((100 * 4096 + 1)) "$FUSE_FILE") "$T/page" ||
	fx_fail "a backing-file write is not visible through FUSE"

fx_stop "$SERVER_PID"
fx_check_torn_down
[ -z "$(ls -A "$T/mnt")" ] || fx_fail "the mountpoint directory was written to"
exit 0
