#!/usr/bin/env bash
# Faults under load, against real tgtds on 127.0.0.1: with --multipath
# over two portals of one LUN, a portal killed during a fio verify run
# (the run completes, verify clean, its requests moved to the survivor),
# the path back and used again, --enforce-multipath refused on one path;
# on one path, the whole target away for 10 s and back (the same), and
# away past the I/O timeout (EIO within the bound, no hang, and I/O works
# again once the target is back); ext4 over FUSE + loop across a target
# restart (the write with fsync succeeds, the data and fsck are clean).
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
cb_init
. "$TESTS_SRCDIR/iscsi-lib.sh"
require_cmd fio qemu-io

make_disk "$T/lun.img" 32M random
tgt_start a
tgt_start b

# verify_under_fault WHAT CMD...: a fio verify run (about 6 s of writes,
# then the reads) during which CMD runs, after 2 s; the run must still be
# going when the fault lands, and end clean.
verify_under_fault() {
	local what=$1 fio_pid

	shift
	fio --name=verify --ioengine=nbd --uri="$NBD_URI" --rw=randwrite --bs=4k --iodepth=16 \
		--size=24M --rate_iops=1000 --verify=crc32c --verify_fatal=1 > "$T/fio" 2>&1 &
	fio_pid=$!
	sleep 2
	is_alive "$fio_pid" || fail "$what: fio ended before the fault: $(tail -3 "$T/fio")"
	"$@"
	wait "$fio_pid" || fail "$what: fio verify failed: $(grep -E 'err|verify' "$T/fio" | head -5)"
	assert_alive "$SERVER_PID" "$what"
}

# --- multipath: both portals, each path's loss unseen by the client.
iscsi_ci a b
start_fg --multipath --backend-option iscsi.io_timeout=30
conns() { tgtadm -C "${TGT_CTL[$1]}" --lld iscsi --op show --mode conn --tid 1 | grep -c Connection; }
[ "$(conns a)" -ge 1 ] && [ "$(conns b)" -ge 1 ] || fail "--multipath did not log in on both portals"
verify_under_fault "path b killed" tgt_kill b
grep -q "path ${TGT_PORTAL[b]} failed" "$SERVER_ERR" || fail "the loss of path b went unlogged"
echo "ok - multipath: a path killed under a fio verify run; the run completes clean"

tgt_restart b
wait_for 100 grep -q "path ${TGT_PORTAL[b]} is up again" "$SERVER_ERR" ||
	fail "path b did not come back: $(tail -3 "$SERVER_ERR")"
verify_under_fault "path a killed" tgt_kill a
echo "ok - multipath: the path back is used again (the other one killed, the run clean)"
stop_server "$SERVER_PID"

! "$CINDER_BRICK" export --connection-info "$T/ci.json" --nbd "unix:$T/e.sock" --multipath \
	--enforce-multipath 2> "$T/err" || fail "--enforce-multipath served on one path"
grep -q "multipath is enforced, but only 1 of the 2 paths logged in" "$T/err" ||
	fail "no reason for the refusal: $(cat "$T/err")"
tgt_restart a
start_fg --multipath --enforce-multipath
stop_server "$SERVER_PID"
echo "ok - --enforce-multipath refuses one path and serves two"

# --- one path: the target away and back within the I/O timeout.
iscsi_ci a
start_fg --backend-option iscsi.io_timeout=30
away_10s() {
	tgt_kill a
	sleep 10	# the outage the test is about, not a wait for readiness
	tgt_restart a
}
verify_under_fault "target away 10 s" away_10s
cmp <(qemu-io -f raw -c "read -v 0 512" "$NBD_URI" | head -1) \
	<(qemu-io -f raw -c "read -v 0 512" "$T/lun.img" | head -1) > /dev/null ||
	fail "the LUN and its file differ after the outage"
echo "ok - one path: the target away for 10 s and back, a fio verify run unharmed"
stop_server "$SERVER_PID"

# --- a filesystem over FUSE + loop does not see a target restart.
if built fuse; then
	mkdir -p "$T/fuse" "$T/mnt"
	start_fg --fuse "$T/fuse" --loop --backend-option iscsi.io_timeout=30
	DEV=$(sed -n 's/^loop: //p' "$SERVER_OUT")
	mkfs.ext4 -q "$DEV" && mount "$DEV" "$T/mnt" || fail "mkfs.ext4 or mount on $DEV"
	head -c 16M /dev/urandom > "$T/data"
	dd if="$T/data" of="$T/mnt/data" bs=64k conv=fsync status=none &
	dd_pid=$!
	tgt_kill a
	is_alive "$dd_pid" || note "the copy ended before the target went away"
	sleep 3	# the outage, not a wait for readiness
	tgt_restart a
	wait "$dd_pid" || fail "a write with fsync failed across the target restart"
	sync -f "$T/mnt/data" || fail "syncfs failed after the restart"
	echo 3 > /proc/sys/vm/drop_caches
	cmp "$T/data" "$T/mnt/data" || fail "the file differs after the target restart"
	umount "$T/mnt" || fail "umount"
	fsck.ext4 -n "$DEV" > "$T/fsck" 2>&1 || fail "fsck after the restart: $(cat "$T/fsck")"
	stop_server "$SERVER_PID"
	echo "ok - ext4 over FUSE + loop: a target restart under a write with fsync goes unseen"
fi

# --- past the I/O timeout: EIO, not a hang; then served again.
start_fg --backend-option iscsi.io_timeout=3
tgt_kill a
start=$(date +%s)
timeout 30 qemu-io -f raw -c "read 0 4k" "$NBD_URI" > "$T/qio" 2>&1
rc=$?
[ $rc -ne 124 ] || fail "a read hung past the I/O timeout"
grep -q "Input/output error" "$T/qio" || fail "no EIO past the I/O timeout: $(cat "$T/qio")"
[ $(($(date +%s) - start)) -le 10 ] || fail "EIO came after $(($(date +%s) - start)) s, not ~3"
tgt_restart a
wait_for 100 qemu-io -f raw -c "read 0 4k" "$NBD_URI" > /dev/null 2>&1 ||
	fail "the LUN is not served again once the target is back"
assert_alive "$SERVER_PID" "after the outage"
stop_server "$SERVER_PID"
echo "ok - past the I/O timeout a request fails with EIO within the bound; then served again"
