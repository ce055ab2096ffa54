#!/usr/bin/env bash
# connection_info is network input.  Against a fake Cinder (tests/fake_cinder.py,
# noauth, no lab needed) whose attachment hands out a "local" path:
# /proc/self/mem, a character device, a relative path, a file outside the
# allowed paths and a symlink from an allowed directory to one outside are
# each refused with the reason, and rolled back (the attachment deleted,
# nothing left here).  A file under --allow-local-path attaches, serves its
# data, and its serving process holds none of the caller's OS_* secrets.
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
[ "$(id -u)" = 0 ] || skip "local-attach needs root (FUSE mounts, loop devices)"
built fuse || skip "this build has no FUSE export, which local-attach needs"
require_cmd losetup jq

VOL=1d6f5a4e-3f1c-4a36-9f6e-000000000001
LOG=$T/cinder.log
CI=$T/ci.json
STATE=/run/cinder-brick
SECRET=sekrit-$$-password

start_fake_cinder "$LOG" "$CI" "$VOL"
export OS_PASSWORD=$SECRET

give() { printf '{"driver_volume_type": "local", "data": {"device_path": "%s"}}\n' "$1" > "$CI"; }

cb() {
	timeout 120 "$CINDER_BRICK" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	[ $RC -ne 124 ] || fail "cinder-brick $* hung"
}

# refused PATTERN ARGS...: local-attach fails naming PATTERN, and is rolled back.
refused() {
	local pat=$1

	shift
	: > "$LOG"
	cb local-attach "$@" fakevol
	[ $RC -eq 1 ] || fail "local-attach of $(cat "$CI"): exit $RC, not 1: $(cat "$T/out" "$T/err")"
	grep -qE -- "$pat" "$T/err" || fail "'$pat' not in: $(cat "$T/err")"
	grep -q "^DELETE /v3/p1/attachments/" "$LOG" || fail "no rollback: $(cat "$LOG")"
	! grep -q "os-complete\|/action" "$LOG" || fail "completed a refused attach: $(cat "$LOG")"
	[ ! -e "$STATE/$VOL.json" ] && [ ! -e "$STATE/$VOL" ] || fail "state left behind"
	! losetup -a | grep -q "$VOL" || fail "a loop device is left: $(losetup -a)"
}

mkdir -p "$T/vols" "$T/elsewhere"
make_disk "$T/elsewhere/secret.img" 1M random
ln -s "$T/elsewhere/secret.img" "$T/vols/link.img"

give /proc/self/mem
refused "local path /proc/[0-9a-z]*/mem, which cannot be served: it is kernel state" \
	--allow-local-path /
give /dev/zero
refused "/dev/zero, which cannot be served: it is neither a regular file nor a block device" \
	--allow-local-path /
give vols/disk.img
refused "cannot be served: it is not an absolute path" --allow-local-path "$T/vols"
give "$T/elsewhere/secret.img"
refused "outside every path allowed for local volumes.*--allow-local-path" \
	--allow-local-path "$T/vols"
give "$T/elsewhere/secret.img"
refused "outside every path allowed" # none allowed at all
give "$T/vols/link.img"
refused "local path $T/elsewhere/secret.img, outside every path allowed" \
	--allow-local-path "$T/vols"
echo "ok - /proc, character devices, relative paths, paths outside the allowed ones, symlinks out: refused and rolled back"

make_disk "$T/vols/disk.img" 8M
give "$T/vols/disk.img"
cb local-attach --json --allow-local-path "$T/vols" fakevol
[ $RC -eq 0 ] || fail "local-attach: exit $RC: $(cat "$T/err")"
DEV=$(jq -r .device "$T/out")
PID=$(jq -r .pid "$T/out")
SERVER_PIDS+=("$PID")
[ -b "$DEV" ] || fail "$DEV is not a block device"
[ "$(jq -r .backend "$T/out")" = local ] || fail "backend: $(cat "$T/out")"
tr '\0' '\0' < /proc/"$PID"/environ | grep -qa "$SECRET" &&
	fail "the serving process has the caller's OS_PASSWORD in its environment"
tr '\0' '\n' < /proc/"$PID"/environ | grep -q '^OS_' &&
	fail "the serving process has OS_* variables: $(tr '\0' '\n' < /proc/"$PID"/environ)"
grep -qa "$SECRET" "/proc/$PID/cmdline" && fail "the password is in the serving process's argv"
pattern_file "$T/pattern" 1M 165
dd if="$T/pattern" of="$DEV" bs=1M seek=3 oflag=direct status=none || fail "write to $DEV"
grep -q "POST /v3/p1/attachments/.*/action" "$LOG" || fail "the attach was not completed"
cb list
grep -q "^$VOL .* $DEV .* local .* $PID  ok$" "$T/out" || fail "list: $(cat "$T/out")"
cb local-detach fakevol
[ $RC -eq 0 ] || fail "local-detach: exit $RC: $(cat "$T/err")"
wait_gone "$PID" || fail "the serving process $PID still runs after detach"
cmp <(dd if="$T/vols/disk.img" bs=1M skip=3 count=1 status=none) "$T/pattern" ||
	fail "the data written through $DEV is not in the file"
grep -q "^DELETE /v3/p1/attachments/" "$LOG" || fail "detach did not delete the attachment"
[ ! -e "$STATE/$VOL.json" ] || fail "state left after detach"
echo "ok - an allowed local file attaches, serves, detaches; the serving process has no OS_* variables"
exit 0
