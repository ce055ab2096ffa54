#!/usr/bin/env bash
# The nfs backend when its server goes away, against a real nfs-ganesha:
# - killed and started again while fio writes and verifies at depth, over
#   NFSv3 and NFSv4 (whose restarted server has forgotten our client id
#   and open state): no error, every block verified, and the outage logged
#   in a few lines (one loss, one return), never once per event loop turn;
# - an NFSv4 lease expired while idle: the write is sent again on a new
#   session;
# - gone for longer than nfs.io_timeout, or frozen (SIGSTOP) with
#   requests in flight: they fail with EIO within the timeout, and SIGTERM
#   then ends the export at once; with a far timeout, SIGTERM ends it once
#   its grace period is over (--stop-grace);
# - local-detach of an attached volume whose server is gone completes
#   (against a fake Cinder).
. "${TESTS_SRCDIR:?must name the tests directory}/lib.sh" || exit 99
. "$TESTS_SRCDIR/nfs-lib.sh" || exit 99
nfs_init
require_cmd fio qemu-io bc
require_pymod nbd
cb_init
. "$TESTS_SRCDIR/stop-lib.sh"
nfs_start

# fio_json FILE: "errors written-bytes verified-bytes" of fio's JSON.
fio_json() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(j["error"] for j in d["jobs"]),
      sum(j["write"]["io_bytes"] for j in d["jobs"]),
      sum(j["read"]["io_bytes"] for j in d["jobs"]))' "$1"
}

# written FILE: whether FILE (sparse at first) has blocks on the server.
written() {
	[ "$(stat -c %b "$1")" -gt 0 ]
}

# log_lines: lines the export logged, bounded whatever the outage.
log_lines() {
	wc -l < "$SERVER_ERR"
}

for v in 3 4; do
	opts=$([ $v = 3 ] && echo "" || echo "-o vers=4")
	vol=vol$v.img
	make_disk "$T/export/$vol" 64M
	nfs_ci "$vol" "$opts" raw
	start_fg
	fio --name=restart$v --ioengine=nbd --uri="$NBD_URI" --rw=randwrite \
		--bsrange=4k-64k --iodepth=16 --size=64M --time_based --runtime=12 \
		--verify=crc32c --verify_backlog=256 --verify_fatal=1 --verify_state_save=0 \
		--output-format=json --output="$T/fio$v.json" > "$T/fio$v.log" 2>&1 &
	fio_pid=$!
	# Writes are landing on the server.
	wait_for 300 written "$T/export/$vol" ||
		fail "NFSv$v: fio wrote nothing in 30 s"
	nfs_ganesha_kill
	# The outage itself, not a synchronisation: requests meet a dead port.
	sleep 2
	nfs_ganesha_start
	wait "$fio_pid" || fail "NFSv$v: fio failed across the restart: $(tail -5 "$T/fio$v.log")"
	read -r errors written verified < <(fio_json "$T/fio$v.json") || fail "fio's JSON"
	[ "$errors" = 0 ] && [ "$written" -gt 0 ] && [ "$verified" -gt 0 ] ||
		fail "NFSv$v: fio errors/written/verified: $errors/$written/$verified"
	grep -q "lost the NFS session" "$SERVER_ERR" ||
		fail "NFSv$v: the loss was not logged: $(head -5 "$SERVER_ERR")"
	grep -q "NFS session back after" "$SERVER_ERR" ||
		fail "NFSv$v: the return was not logged: $(tail -5 "$SERVER_ERR")"
	[ "$(log_lines)" -le 10 ] ||
		fail "NFSv$v: $(log_lines) lines logged for one outage: $(head -20 "$SERVER_ERR")"
	stop_server "$SERVER_PID"
	echo "ok - NFSv$v: ganesha killed and restarted under fio: verified, no error, $(log_lines) log lines"
done

# An NFSv4 lease that runs out while the volume is idle (libnfs 4.0 never
# renews one): the server expires our client id and open, the next write
# gets NFS4ERR_EXPIRED, and is sent again on a new session, not failed.
sed -i 's/NFSV4 { Graceless = true; }/NFSV4 { Graceless = true; Lease_Lifetime = 1; }/' \
	"$T/ganesha.conf"
nfs_ganesha_kill
nfs_ganesha_start
make_disk "$T/export/lease.img" 16M
nfs_ci lease.img "-o vers=4" raw
start_fg
for i in 1 2 3 4 5 6; do
	qemu-io -f raw -c "write -P 0x$i$i 0 64k" -c "read -P 0x$i$i 0 64k" "$NBD_URI" \
		> "$T/qio" 2>&1 || fail "lease: write $i failed: $(cat "$T/qio" "$SERVER_ERR")"
	! grep -q "Pattern verification failed" "$T/qio" || fail "lease: write $i read back wrong"
	grep -q "NFS4ERR_EXPIRED" "$SERVER_ERR" && break
	# Idle, for the server to expire the lease: time, not a synchronisation.
	sleep 4
done
grep -q "NFS4ERR_EXPIRED" "$SERVER_ERR" || fail "lease: never expired: $(cat "$SERVER_ERR")"
grep -q "NFS session back after" "$SERVER_ERR" || fail "lease: no new session: $(cat "$SERVER_ERR")"
stop_server "$SERVER_PID"
sed -i 's/ Lease_Lifetime = 1;//' "$T/ganesha.conf"
nfs_ganesha_kill
nfs_ganesha_start
echo "ok - NFSv4 lease expired while idle: the write got a new session, not an error"

# timed_write URI: qemu-io writes 64k; prints its exit status and seconds.
timed_write() {
	local t0=$SECONDS rc=0

	qemu-io -f raw -c "write -P 0x33 0 64k" "$1" > "$T/qio" 2>&1 || rc=$?
	echo "$rc $((SECONDS - t0))"
}

# Gone for longer than the timeout, then frozen with requests in flight:
# EIO within the timeout (and the few seconds of a reconnect attempt).
make_disk "$T/export/gone.img" 16M
for how in gone frozen; do
	nfs_ci gone.img "-o vers=4" raw
	start_fg --backend-option nfs.io_timeout=3
	if [ $how = gone ]; then
		nfs_ganesha_kill
	else
		kill -STOP "$NFS_PID"
	fi
	read -r rc secs < <(timed_write "$NBD_URI")
	[ "$rc" != 0 ] || fail "$how: a write succeeded with the server $how"
	grep -q "Input/output error" "$T/qio" || fail "$how: not EIO: $(cat "$T/qio")"
	[ "$secs" -le 8 ] || fail "$how: the write failed only after $secs s (nfs.io_timeout=3)"
	grep -q "failed with EIO: not done within nfs.io_timeout (3 s)" "$SERVER_ERR" ||
		fail "$how: the timeout was not logged: $(cat "$SERVER_ERR")"
	t0=$SECONDS
	kill -TERM "$SERVER_PID"
	wait_gone "$SERVER_PID" 150 || fail "$how: the export outlived SIGTERM by 15 s"
	[ $((SECONDS - t0)) -le 8 ] || fail "$how: SIGTERM took $((SECONDS - t0)) s"
	[ "$(log_lines)" -le 10 ] ||
		fail "$how: $(log_lines) lines logged: $(head -20 "$SERVER_ERR")"
	if [ $how = gone ]; then
		nfs_ganesha_start
	else
		kill -CONT "$NFS_PID"
	fi
	echo "ok - server $how: EIO after nfs.io_timeout ($secs s), SIGTERM ends the export"
done

# SIGTERM with the server frozen and writes in flight, nfs.io_timeout (60
# s) far off: the stop ends once its grace period is over.
nfs_ci gone.img "-o vers=4" raw
start_fg --stop-grace "$GRACE"
freeze "$NFS_PID"
start_inflight_writes "$NBD_URI"
stop_bounded "$SERVER_PID" "$SERVER_ERR"
writer_failed
thaw_all
echo "ok - server frozen, writes in flight: SIGTERM ends the export in $TOOK s (--stop-grace $GRACE)"

# local-detach while the server is gone.
built fuse || exit 0
start_fake_cinder "$T/cinder.log" "$T/ci.json" 1d6f5a4e-3f1c-4a36-9f6e-000000000004
make_disk "$T/export/att.img" 16M random
nfs_ci att.img "-o vers=4" raw
"$CINDER_BRICK" local-attach --json --export fuse --backend-option nfs.io_timeout=3 fakevol \
	> "$T/out" 2> "$T/err" || fail "local-attach: $(cat "$T/err")"
SERVER_PIDS+=("$(jq -r .pid "$T/out")")
DEV=$(jq -r .device "$T/out")
FUSE_FILE=$(jq -r .fuse_file "$T/out")
cmp "$DEV" "$T/export/att.img" || fail "$DEV does not read as the NFS volume file"
nfs_ganesha_kill
t0=$SECONDS
timeout 60 "$CINDER_BRICK" local-detach fakevol > "$T/out" 2> "$T/err" ||
	fail "local-detach with the server gone: $(cat "$T/err")"
grep -q "^DELETE /v3/p1/attachments/" "$T/cinder.log" || fail "the attachment was not deleted"
# Another test may take the same loop device next: ask whether it still
# holds our FUSE file, and give the kernel a moment to let go.
wait_for 50 loop_off "$DEV" "$FUSE_FILE" || fail "$DEV is still attached"
echo "ok - local-detach with the NFS server gone: done in $((SECONDS - t0)) s"
nfs_ganesha_start
