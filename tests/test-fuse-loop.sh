# --loop: a block device over the FUSE file.  Make a filesystem on it, fill
# it, stop the server with SIGTERM (exit 0, loop detached, FUSE unmounted),
# then export again and find the files intact.
source "$(dirname "$0")/fuse-lib.sh"
fx_init
fx_require_loop
command -v mkfs.ext4 > /dev/null || fx_skip "mkfs.ext4 is not installed"

truncate -s 256M "$T/vol"
fx_conninfo "$T/vol"
touch "$T/mnt"
mkdir "$T/fs"
EXT_MOUNTS+=("$T/fs")

fx_start_fg --fuse "$T/mnt" --loop
[ -b "$LOOP_DEV" ] || fx_fail "loop: line '$LOOP_DEV' is not a block device"
sysdir=/sys/block/${LOOP_DEV#/dev/}
[ "$(cat "$sysdir/loop/backing_file")" = "$T/mnt" ] ||
	fx_fail "$LOOP_DEV is backed by $(cat "$sysdir/loop/backing_file"), not $T/mnt"
[ "$(cat "$sysdir/loop/dio")" = 1 ] || fx_fail "$LOOP_DEV does not use direct I/O"
[ "$(blockdev --getsize64 "$LOOP_DEV")" = $((256 << 20)) ] || fx_fail "wrong device size"
[ "$(blockdev --getro "$LOOP_DEV")" = 0 ] || fx_fail "$LOOP_DEV is read-only"

mkfs.ext4 -q -F "$LOOP_DEV" || fx_fail "mkfs.ext4"
mount "$LOOP_DEV" "$T/fs" || fx_fail "mount"
mkdir "$T/fs/dir"
head -c 7M /dev/urandom > "$T/fs/dir/a"
head -c 12345 /dev/urandom > "$T/fs/b"
cp -r /usr/share/doc/bash "$T/fs/dir/" 2> /dev/null || seq 100000 > "$T/fs/dir/c"
(cd "$T/fs" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$T/sums" ||
	fx_fail "sha256sum"
umount "$T/fs" || fx_fail "umount"

kill -TERM "$SERVER_PID"
fx_wait_exit "$SERVER_PID"
[ "$EXIT_STATUS" = 0 ] || { cat "$T/fg.err" >&2; fx_fail "server exited $EXIT_STATUS"; }
fx_check_torn_down
! losetup -a | grep -q "$T/mnt" || fx_fail "losetup still lists $T/mnt"

fx_start --fuse "$T/mnt" --loop
mount "$LOOP_DEV" "$T/fs" || fx_fail "mount after restart"
(cd "$T/fs" && sha256sum --quiet -c "$T/sums") || fx_fail "files changed across restart"
umount "$T/fs" || fx_fail "umount after restart"
fx_stop "$SERVER_PID"
fx_check_torn_down
exit 0
