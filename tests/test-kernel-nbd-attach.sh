#!/usr/bin/env bash
# local-attach as /dev/nbdN, inside a VM with Debian's kernel, against a
# fake Cinder (tests/fake_cinder.py, noauth) that hands out a local file:
# --export auto picks nbd where the kernel has it; list shows the export
# kind and the device; local-detach refuses while the device is mounted.
# The serving process killed with SIGKILL under a write load: reattach
# serves the device again within the dead-connection timeout, the load
# finishes with no I/O error, fsck is clean and the data matches.  A
# reattach while a server lives, and one onto a device that carries another
# identifier, are refused; a second server can never take a live device.
. "${TESTS_SRCDIR:?must name the tests directory}/kernel-nbd-lib.sh" || exit 99
require_cmd jq fsck.ext4
require_built netlink # reattach

VOL=1d6f5a4e-3f1c-4a36-9f6e-000000000001
LOG=$T/cinder.log
STATE=/run/cinder-brick/$VOL.json

start_fake_cinder "$LOG" "$T/ci.json"

cb() {
	timeout 120 "$CINDER_BRICK" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	[ $RC -ne 124 ] || fail "cinder-brick $* hung"
}

mkdir "$T/vols" "$T/mnt"
make_disk "$T/vols/disk.img" 128M
make_ci "$T/vols/disk.img"
# A short I/O timeout: requests in flight when the server dies are
# re-sent only once it expires.
cb local-attach --json --allow-local-path "$T/vols" --io-timeout 8 fakevol
[ $RC -eq 0 ] || fail "local-attach: exit $RC: $(cat "$T/err")"
DEV=$(jq -r .device "$T/out")
PID=$(jq -r .pid "$T/out")
ATT=$(jq -r .attachment_id "$T/out")
SERVER_PIDS+=("$PID")
[ "$(jq -r .export "$T/out")" = nbd ] || fail "--export auto chose $(jq -r .export "$T/out"), not nbd"
[[ "$DEV" == /dev/nbd* ]] && [ -b "$DEV" ] || fail "local-attach gave '$DEV', not /dev/nbdN"
[ "$(kn_sys "$DEV" backend)" = "$ATT" ] ||
	fail "the device's backend identifier is '$(kn_sys "$DEV" backend)', not attachment $ATT"
cb list --json
[ "$(jq -r '.[0].export + " " + .[0].device + " " + .[0].health' "$T/out")" = "nbd $DEV ok" ] ||
	fail "list --json: $(cat "$T/out")"
[ "$(jq -r '.[0].io_timeout, .[0].dead_conn_timeout' "$T/out" | tr '\n' ' ')" = "8 30 " ] ||
	fail "list --json does not show the timeouts given: $(cat "$T/out")"
echo "ok - local-attach: $DEV (export nbd, identifier = attachment), list shows it"

mkfs.ext4 -q "$DEV" && mount "$DEV" "$T/mnt" || fail "mkfs or mount on $DEV"
cb local-detach fakevol
[ $RC -eq 1 ] && grep -q "mounted or in use" "$T/err" ||
	fail "local-detach of a mounted $DEV: exit $RC: $(cat "$T/err")"
is_alive "$PID" || fail "the refused detach stopped the server"
echo "ok - local-detach refuses while $DEV is mounted"

# --- the server dies under a write load; reattach
head -c 48M /dev/urandom > "$T/data"
dd if="$T/data" of="$T/mnt/data" bs=1M conv=fsync status=none 2> "$T/dd.err" &
DD=$!
wait_for 300 test -s "$T/mnt/data" || fail "the write load did not start"
is_alive "$DD" || fail "the write load ended before the kill: make it larger"
killed=$EPOCHREALTIME
kill -KILL "$PID"
wait_gone "$PID" || fail "the server survived SIGKILL"
cb local-detach fakevol
[ $RC -eq 1 ] && grep -q "waits for a new one for 30 s: reattach it" "$T/err" ||
	fail "local-detach of a device waiting for its server: exit $RC: $(cat "$T/err")"
cb reattach --allow-local-path "$T/vols" fakevol
[ $RC -eq 0 ] || fail "reattach: exit $RC: $(cat "$T/err")"
wait "$DD" || fail "the write load failed across the reattach: $(cat "$T/dd.err")"
note "the write load finished $(bc <<< "$EPOCHREALTIME - $killed") s after the kill"
cmp "$T/data" "$T/mnt/data" || fail "the data written across the reattach differs"
PID=$(jq -r .pid "$STATE")
SERVER_PIDS+=("$PID")
is_alive "$PID" || fail "no serving process after the reattach"
umount "$T/mnt" || fail "umount"
fsck.ext4 -n -f "$DEV" > "$T/fsck" 2>&1 || fail "fsck after the reattach: $(cat "$T/fsck")"
! dmesg | grep -q "I/O error.*nbd\|nbd.*I/O error" || fail "the kernel logged I/O errors: $(dmesg | grep -i 'i/o error' | tail -3)"
echo "ok - SIGKILL under a write load, reattach: the load finished, fsck clean, data intact"

# --- refusals: a live server, another identifier, a second server
cb reattach --allow-local-path "$T/vols" fakevol
[ $RC -eq 1 ] && grep -q "nothing to reattach" "$T/err" ||
	fail "reattach with the server alive: exit $RC: $(cat "$T/err")"
make_disk "$T/other" 128M
make_ci "$T/other" "$T/other.json"
! "$CINDER_BRICK" export --connection-info "$T/other.json" --kernel-nbd --device "$DEV" \
	--pidfile "$T/p2" > /dev/null 2> "$T/err2" || fail "a second server took the live $DEV"
grep -q "$DEV\|nbd$(kn_index "$DEV")" "$T/err2" || fail "no clear refusal: $(cat "$T/err2")"
kill -KILL "$PID"
wait_gone "$PID" || fail "the server survived SIGKILL"
jq '.nbd_identifier = "another-attachment"' "$STATE" > "$T/st" && cp "$T/st" "$STATE"
cb reattach --allow-local-path "$T/vols" fakevol
[ $RC -eq 1 ] && grep -q "carries another attachment" "$T/err" ||
	fail "reattach onto another identifier: exit $RC: $(cat "$T/err")"
jq --arg id "$ATT" '.nbd_identifier = $id' "$STATE" > "$T/st" && cp "$T/st" "$STATE"
cb reattach --allow-local-path "$T/vols" --all
[ $RC -eq 0 ] || fail "reattach --all: exit $RC: $(cat "$T/err")"
PID=$(jq -r .pid "$STATE")
SERVER_PIDS+=("$PID")
echo "ok - refused: reattach with a live server, a second server on the device, another identifier; reattach --all"

: > "$LOG"
cb local-detach fakevol
[ $RC -eq 0 ] || fail "local-detach: exit $RC: $(cat "$T/err")"
wait_gone "$PID" || fail "the serving process outlived the detach"
[ "$(kn_sys "$DEV" size)" = 0 ] || fail "$DEV still has size $(kn_sys "$DEV" size) after the detach"
grep -q "^DELETE /v3/p1/attachments/$ATT" "$LOG" || fail "Cinder was not told: $(cat "$LOG")"
[ ! -e "$STATE" ] || fail "the state outlived the detach"
echo "ok - local-detach: the device is gone, then Cinder's attachment"
